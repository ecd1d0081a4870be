-- VERP return path ids: which message and recipient the envelope sender `bounce+<id><tag>@<domain>`
-- of a delivery names, so that a bounce or complaint sent back to it can be attributed with a
-- 39-octet local part (RFC 5321 allows 64). Written when a message is accepted, read by the
-- email() handler, purged by the retention cron. Documented in docs/storage.md, "VERP return path".
CREATE TABLE return_paths (
  domain TEXT NOT NULL,
  id TEXT NOT NULL, -- 16 lower-case base32 characters: HMAC of message id and lower-cased recipient
  message_id TEXT NOT NULL, -- without <>
  recipient TEXT NOT NULL, -- as the message named it (the failed event's recipient)
  created_at INTEGER NOT NULL, -- unix milliseconds
  PRIMARY KEY (domain, id)
) WITHOUT ROWID;
-- The retention purge finds old rows without scanning the table.
CREATE INDEX return_paths_by_time ON return_paths (domain, created_at);
