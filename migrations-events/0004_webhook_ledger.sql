-- The webhook ledger beside its events (docs/storage.md, "Event shards" and "webhook_deliveries";
-- src/db/delivery-ledger.ts): one row per finished delivery of one event to one URL, in the shard
-- of the event's domain and day, so that a delivery writes its event's shard and not the control
-- database. Only what the webhooks consumer checks before posting: a delivery that is here is done
-- and a redelivered queue message does not post it again. Dead letters (deliveries that failed every
-- attempt, with their event-data, listed and replayed per domain) stay in the control database's
-- webhook_deliveries (migrations/0003_webhooks.sql). Emptied with the slot, by finished_at.
-- Kept small (bytes count at scale): no domain, URL, event id or error, which nothing reads.
-- Never edit once applied.
CREATE TABLE webhook_ledger (
  id TEXT PRIMARY KEY NOT NULL, -- webhook_deliveries.id: SHA-256 of (event id, url), 22 base64url characters
  rejected INTEGER NOT NULL CHECK (rejected IN (0, 1)), -- 0 delivered (2xx), 1 rejected (406, or a host that is not public); SQLite stores 0 and 1 in no bytes
  finished_at INTEGER NOT NULL -- unix milliseconds
) WITHOUT ROWID;
