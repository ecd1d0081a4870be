-- Where the day keys are (docs/storage.md, "Day keys databases"; src/domain/key-databases.ts):
-- the Worker names its layout in this setting, and when the keys move (to databases of their own,
-- or to another number of them) moves event_day_keys_since two days on (src/db/event-day-keys.ts,
-- settleDayKeysLayout). A deployment that already has domains wrote its keys into its stats
-- databases until now ('STATS'); a new one has none written anywhere yet, so the setting stays
-- unset until the Worker's first cron run records where it writes them. Never edit once applied.
INSERT INTO account_settings (name, value)
  SELECT 'event_day_keys_at', 'STATS' WHERE EXISTS (SELECT 1 FROM domains);
