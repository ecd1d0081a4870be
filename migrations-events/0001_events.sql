-- An event shard (docs/storage.md, "Event shards"): one D1 database of the ring, holding the events
-- of the domains the directory maps to it for the days of its slot. The columns and indexes are the
-- control database's events tables (migrations/0001_init.sql), so one set of queries reads both;
-- only the rowid differs: AUTOINCREMENT, because a slot is emptied whole when the ring comes round
-- and the stats rollup's per-shard watermark is a rowid that must never be handed out again.
-- Never edit once applied.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, -- the rowid; the rollup's watermark
  id TEXT NOT NULL,
  domain TEXT NOT NULL,
  ts INTEGER NOT NULL, -- microseconds since the epoch
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

CREATE TABLE event_tags (
  domain TEXT NOT NULL,
  tag TEXT NOT NULL,
  ts INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (domain, tag, ts, event_id)
) WITHOUT ROWID;

-- What opens, clicks and bounces read of their message (src/db/messages.ts), kept in the shard of
-- the domain and the day the message was sent, and emptied with its slot: the control database's
-- messages and message_facts (migrations/0001_init.sql, 0008_message_facts.sql), same columns.
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

CREATE TABLE message_facts (
  domain TEXT NOT NULL,
  message_id TEXT NOT NULL, -- without <>
  tags TEXT NOT NULL DEFAULT '[]', -- JSON array
  user_variables TEXT NOT NULL DEFAULT '{}', -- JSON object
  headers TEXT NOT NULL DEFAULT '{}', -- JSON object: message-id, from, to, subject
  prepared_at INTEGER NOT NULL, -- unix milliseconds
  PRIMARY KEY (domain, message_id)
) WITHOUT ROWID;

-- VERP return paths (src/db/return-paths.ts), in the shard of their domain and the day the message
-- was accepted: the control database's return_paths (migrations/0007, 0010), same columns and the
-- index a bounce on BOUNCE_DOMAIN (which names no domain) is looked up by.
CREATE TABLE return_paths (
  domain TEXT NOT NULL,
  id TEXT NOT NULL, -- 16 lower-case base32 characters: HMAC of message id and lower-cased recipient
  message_id TEXT NOT NULL, -- without <>
  recipient TEXT NOT NULL, -- as the message named it (the failed event's recipient)
  created_at INTEGER NOT NULL, -- unix milliseconds
  PRIMARY KEY (domain, id)
) WITHOUT ROWID;
CREATE INDEX return_paths_by_id ON return_paths (id);
