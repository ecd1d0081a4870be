-- A key database (docs/storage.md, "Day keys databases"): the day keys of the domains whose hash
-- names it (KEYS_<hash % m>), the table of migrations-stats/0002 (src/domain/event-day-keys.ts says
-- what a key is). Written by the events store with every event it stores; read by a page of one
-- domain to skip the days' shards that cannot hold a match; purged by the stats rollup's cron once
-- a day has left the ring. Never edit once applied.
CREATE TABLE event_day_keys (
  day INTEGER NOT NULL, -- days since the Unix epoch, UTC
  key INTEGER NOT NULL,
  n INTEGER NOT NULL, -- events with the key that day: an estimate (a redelivered batch counts again)
  PRIMARY KEY (day, key)
) WITHOUT ROWID;
