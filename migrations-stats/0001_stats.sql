-- A stats database (docs/storage.md, "Stats databases"): the rollups of the domains whose hash
-- (src/domain/event-shards.ts, domainHash) picks it, STATS_<domainHash % n> of n. The tables are the
-- control database's (migrations/0004_rollups.sql), so one set of queries serves both; the control
-- database keeps its own for what was rolled up before the stats databases existed (read with them
-- until it ages out). rollup_state holds the watermark of every event shard this database rolls up,
-- so that a rollup step (counters, seen-set, tags and the watermark) stays one atomic batch.
-- Never edit once applied.

CREATE TABLE rollup_state (
  name TEXT PRIMARY KEY NOT NULL, -- events:<shard binding>
  last_rowid INTEGER NOT NULL
);

-- Counters per domain, tag ('' = every event of the domain, tagged or not), resolution ('hour' or
-- 'day') and bucket (unix seconds of the bucket's start, UTC). One column per event sub-type;
-- the list is STATS_COUNTERS in src/domain/stats-counters.ts.
CREATE TABLE stats_counters (
  domain TEXT NOT NULL,
  tag TEXT NOT NULL,
  resolution TEXT NOT NULL CHECK (resolution IN ('hour', 'day')),
  bucket INTEGER NOT NULL,
  accepted_incoming INTEGER NOT NULL DEFAULT 0,
  accepted_outgoing INTEGER NOT NULL DEFAULT 0,
  delivered_smtp INTEGER NOT NULL DEFAULT 0,
  delivered_http INTEGER NOT NULL DEFAULT 0,
  failed_temporary INTEGER NOT NULL DEFAULT 0,
  failed_temporary_espblock INTEGER NOT NULL DEFAULT 0,
  failed_permanent INTEGER NOT NULL DEFAULT 0,
  failed_permanent_bounce INTEGER NOT NULL DEFAULT 0,
  failed_permanent_delayed_bounce INTEGER NOT NULL DEFAULT 0,
  failed_permanent_suppress_bounce INTEGER NOT NULL DEFAULT 0,
  failed_permanent_suppress_unsubscribe INTEGER NOT NULL DEFAULT 0,
  failed_permanent_suppress_complaint INTEGER NOT NULL DEFAULT 0,
  failed_permanent_old INTEGER NOT NULL DEFAULT 0,
  opened INTEGER NOT NULL DEFAULT 0,
  opened_unique INTEGER NOT NULL DEFAULT 0,
  clicked INTEGER NOT NULL DEFAULT 0,
  clicked_unique INTEGER NOT NULL DEFAULT 0,
  unsubscribed INTEGER NOT NULL DEFAULT 0,
  complained INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (domain, tag, resolution, bucket)
) WITHOUT ROWID;
-- Account-wide stats (GET /v3/stats/total) and the retention purge read by resolution and time.
CREATE INDEX stats_counters_by_time ON stats_counters (resolution, bucket);

-- Daily counters split by one dimension: kind 'country' (geolocation, lower-cased), 'device'
-- (client-info device-type), 'bot' (client-info bot: '' human, apple, gmail, generic) for opens,
-- clicks and unsubscribes; 'provider' (recipient domain) for every event. Same counter columns.
CREATE TABLE stats_dimensions (
  domain TEXT NOT NULL,
  tag TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('country', 'device', 'bot', 'provider')),
  value TEXT NOT NULL,
  day INTEGER NOT NULL, -- unix seconds of 00:00 UTC
  accepted_incoming INTEGER NOT NULL DEFAULT 0,
  accepted_outgoing INTEGER NOT NULL DEFAULT 0,
  delivered_smtp INTEGER NOT NULL DEFAULT 0,
  delivered_http INTEGER NOT NULL DEFAULT 0,
  failed_temporary INTEGER NOT NULL DEFAULT 0,
  failed_temporary_espblock INTEGER NOT NULL DEFAULT 0,
  failed_permanent INTEGER NOT NULL DEFAULT 0,
  failed_permanent_bounce INTEGER NOT NULL DEFAULT 0,
  failed_permanent_delayed_bounce INTEGER NOT NULL DEFAULT 0,
  failed_permanent_suppress_bounce INTEGER NOT NULL DEFAULT 0,
  failed_permanent_suppress_unsubscribe INTEGER NOT NULL DEFAULT 0,
  failed_permanent_suppress_complaint INTEGER NOT NULL DEFAULT 0,
  failed_permanent_old INTEGER NOT NULL DEFAULT 0,
  opened INTEGER NOT NULL DEFAULT 0,
  opened_unique INTEGER NOT NULL DEFAULT 0,
  clicked INTEGER NOT NULL DEFAULT 0,
  clicked_unique INTEGER NOT NULL DEFAULT 0,
  unsubscribed INTEGER NOT NULL DEFAULT 0,
  complained INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (domain, tag, kind, day, value)
) WITHOUT ROWID;
CREATE INDEX stats_dimensions_by_time ON stats_dimensions (day);

-- The seen-set behind unique opens and clicks: one row per (message, recipient) and scope, where
-- scope is 'opened' or 'clicked' (first hit of any client) or 'opened:<bot>' / 'clicked:<bot>'
-- (first hit of that class; '' = human), for the bot dimension.
CREATE TABLE stats_seen (
  domain TEXT NOT NULL,
  message_id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  scope TEXT NOT NULL,
  first_seen INTEGER NOT NULL, -- unix seconds
  PRIMARY KEY (domain, message_id, recipient, scope)
) WITHOUT ROWID;
CREATE INDEX stats_seen_by_time ON stats_seen (first_seen);

-- Tags as the rollup met them (lower-cased ASCII, at most 128 characters, at most 20,000 per
-- domain: later ones are dropped, as Mailgun drops them). Descriptions are set through the API.
CREATE TABLE tags (
  domain TEXT NOT NULL,
  tag TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  first_seen INTEGER NOT NULL, -- unix milliseconds
  last_seen INTEGER NOT NULL, -- unix milliseconds
  PRIMARY KEY (domain, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_last_seen ON tags (domain, last_seen);
