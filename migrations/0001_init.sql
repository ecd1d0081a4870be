-- Tidings D1 schema, version 1. Documented in docs/storage.md. Never edit once applied.

-- Sending domains and their tracking settings (Mailgun's domain + tracking shapes).
CREATE TABLE domains (
  name TEXT PRIMARY KEY NOT NULL,
  id TEXT NOT NULL UNIQUE,
  web_prefix TEXT NOT NULL DEFAULT 'email',
  web_scheme TEXT NOT NULL DEFAULT 'http' CHECK (web_scheme IN ('http', 'https')),
  spam_action TEXT NOT NULL DEFAULT 'disabled',
  wildcard INTEGER NOT NULL DEFAULT 0,
  open_active INTEGER NOT NULL DEFAULT 0,
  open_place_at_top INTEGER NOT NULL DEFAULT 0,
  click_active TEXT NOT NULL DEFAULT 'no' CHECK (click_active IN ('no', 'yes', 'htmlonly')),
  unsubscribe_active INTEGER NOT NULL DEFAULT 0,
  unsubscribe_html_footer TEXT NOT NULL,
  unsubscribe_text_footer TEXT NOT NULL,
  created_at INTEGER NOT NULL -- unix milliseconds
);

-- What prepare (and later the Messages API) remembered about a message for one recipient, so
-- that its opens and clicks carry its tags, user variables and headers.
CREATE TABLE messages (
  domain TEXT NOT NULL,
  message_id TEXT NOT NULL,
  recipient TEXT NOT NULL, -- lower-cased
  tags TEXT NOT NULL DEFAULT '[]', -- JSON array
  user_variables TEXT NOT NULL DEFAULT '{}', -- JSON object
  headers TEXT NOT NULL DEFAULT '{}', -- JSON object: message-id, from, to, subject
  prepared_at INTEGER NOT NULL, -- unix milliseconds
  PRIMARY KEY (domain, message_id, recipient)
) WITHOUT ROWID;

-- One row per event. `body` is the Mailgun-shaped JSON served as is; the other columns exist to
-- be filtered on. `ts` is microseconds since the epoch; (ts, id) is the keyset paging order.
-- Uniqueness (and so idempotent inserts) comes from (domain, ts, id), not from a primary key on
-- the random id: rows then arrive roughly in index order and inserts stay appends.
CREATE TABLE events (
  id TEXT NOT NULL,
  domain TEXT NOT NULL,
  ts INTEGER NOT NULL,
  event TEXT NOT NULL,
  severity TEXT,
  recipient TEXT NOT NULL, -- lower-cased
  from_header TEXT,
  to_header TEXT,
  subject TEXT,
  message_id TEXT,
  size INTEGER,
  body TEXT NOT NULL
);
CREATE UNIQUE INDEX events_by_domain_time ON events (domain, ts, id);
CREATE INDEX events_by_recipient ON events (domain, recipient, ts, id);
CREATE INDEX events_by_type ON events (domain, event, ts, id);
CREATE INDEX events_by_message ON events (domain, message_id, ts, id);

-- Tags of each event, lower-cased, for the `tags` filter; clustered by tag and time.
CREATE TABLE event_tags (
  domain TEXT NOT NULL,
  tag TEXT NOT NULL,
  ts INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (domain, tag, ts, event_id)
) WITHOUT ROWID;

-- Queue messages that could not be processed (malformed, or out of retries), kept for inspection.
CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  reason TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL -- unix milliseconds
);
