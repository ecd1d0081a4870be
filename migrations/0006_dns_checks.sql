-- DNS checks of tracking CNAMEs: one row per domain's current tracking host, with the last answer
-- and when to look again (PUT /v4/domains/{d}/verify, and the cron). Documented in docs/storage.md,
-- "DNS checks".
CREATE TABLE dns_checks (
  host TEXT PRIMARY KEY NOT NULL, -- the tracking host, lower-cased: <web_prefix>.<domain>
  domain TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
  expected TEXT NOT NULL DEFAULT '', -- CNAME_TARGET at the last answer ('' before one); an answer for another target no longer counts
  valid TEXT NOT NULL DEFAULT 'unknown' CHECK (valid IN ('valid', 'invalid', 'unknown')), -- 'unknown' until the resolver first answers
  cached TEXT NOT NULL DEFAULT '[]', -- JSON array: the CNAME targets found (Mailgun's `cached`)
  error TEXT NOT NULL DEFAULT '', -- why the last lookup failed; '' after an answer
  attempts INTEGER NOT NULL DEFAULT 0, -- lookups in a row without a valid answer, for the backoff
  next_check_at INTEGER NOT NULL DEFAULT 0, -- unix milliseconds: the cron looks again from then on
  checked_at INTEGER NOT NULL DEFAULT 0 -- unix milliseconds of the last answer; 0 before one
);
-- The domain's rows, for the cascade and for dropping the row of a former prefix.
CREATE INDEX dns_checks_domain ON dns_checks (domain);
-- The cron reads the rows that are due, oldest first.
CREATE INDEX dns_checks_due ON dns_checks (next_check_at);
-- Domains that exist already are checked at the next cron run.
INSERT INTO dns_checks (host, domain) SELECT web_prefix || '.' || name, name FROM domains;
