-- The day keys (docs/storage.md, "Day keys"): the table of migrations-stats/0002, here for a
-- deployment without stats databases, and the first day they cover. Events stored before this
-- migration have no keys, so a deployment that already has domains is covered from two days on
-- (its Worker is deployed with the migration, so every event of those days is stored with keys);
-- a new one from day 0. Never edit once applied.
CREATE TABLE event_day_keys (
  day INTEGER NOT NULL, -- days since the Unix epoch, UTC
  key INTEGER NOT NULL,
  n INTEGER NOT NULL, -- events with the key that day: an estimate (a redelivered batch counts again)
  PRIMARY KEY (day, key)
) WITHOUT ROWID;

-- The first day whose events all have keys.
INSERT INTO account_settings (name, value)
  SELECT 'event_day_keys_since', CASE WHEN EXISTS (SELECT 1 FROM domains) THEN unixepoch() / 86400 + 2 ELSE 0 END;
