-- What a Messages API send remembers once for all its recipients (issue 11, item 4), documented in
-- docs/storage.md, "message_facts". Before it, every recipient's `messages` row repeated the whole
-- message: a 1,000-address To header 1,000 times. Now `messages` keeps, for such a send, only what
-- differs per recipient (a batch send's To and Subject, its filled-in variables), read on top of
-- this row; prepare's rows stay whole. Never edit once applied.
CREATE TABLE message_facts (
  domain TEXT NOT NULL,
  message_id TEXT NOT NULL, -- without <>
  tags TEXT NOT NULL DEFAULT '[]', -- JSON array
  user_variables TEXT NOT NULL DEFAULT '{}', -- JSON object
  headers TEXT NOT NULL DEFAULT '{}', -- JSON object: message-id, from, to, subject
  prepared_at INTEGER NOT NULL, -- unix milliseconds
  PRIMARY KEY (domain, message_id)
) WITHOUT ROWID;
-- For the retention purge, like messages_by_time.
CREATE INDEX message_facts_by_time ON message_facts (domain, prepared_at);
