-- Webhooks (mailgun-api.md §6): where each domain's events are pushed, the account's signing key,
-- and the ledger of finished deliveries. Documented in docs/storage.md, "Webhooks".

-- Up to 3 URLs per domain and webhook id (accepted, delivered, opened, clicked, unsubscribed,
-- complained, permanent_fail, temporary_fail). `position` keeps the order they were given in.
-- Deleting a domain deletes its webhooks (D1 enforces foreign keys).
CREATE TABLE webhooks (
  domain TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
  webhook TEXT NOT NULL,
  url TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (domain, webhook, url)
) WITHOUT ROWID;

-- Account-wide settings by name; today only 'http_signing_key', made on first use.
CREATE TABLE account_settings (
  name TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per finished delivery of one event to one URL; `id` is derived from (event id, url), so
-- a redelivered queue message finds its delivery already done and posts nothing.
-- status: 'delivered' (2xx), 'rejected' (406, never retried), 'failed' (out of retries: the
-- dead-letter list, which keeps `payload`, the event-data, for a manual replay).
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY NOT NULL,
  domain TEXT NOT NULL,
  webhook TEXT NOT NULL,
  url TEXT NOT NULL,
  event_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('delivered', 'rejected', 'failed')),
  attempts INTEGER NOT NULL,
  last_status INTEGER, -- HTTP status of the last attempt; NULL for a timeout or network error
  last_error TEXT NOT NULL DEFAULT '',
  payload TEXT, -- event-data JSON, kept for 'failed' rows only
  finished_at INTEGER NOT NULL -- unix milliseconds
) WITHOUT ROWID;
-- The dead-letter list of a domain, newest first, and the purge of old ledger rows.
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (domain, status, finished_at, id);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (finished_at);
