-- The day keys (docs/storage.md, "Day keys"; src/domain/event-day-keys.ts): per UTC day, a count
-- of events per key, a key being a 53-bit hash of (domain, field, value) for the Events API's
-- equality filters (recipient, message-id, event, tag). Written by the events store with every
-- event it stores; read by a page of one domain to skip the days' shards that cannot hold a match.
-- The same table is in the control database (migrations/0013), which keeps it when there are no
-- stats databases. Never edit once applied.
CREATE TABLE event_day_keys (
  day INTEGER NOT NULL, -- days since the Unix epoch, UTC
  key INTEGER NOT NULL,
  n INTEGER NOT NULL, -- events with the key that day: an estimate (a redelivered batch counts again)
  PRIMARY KEY (day, key)
) WITHOUT ROWID;
