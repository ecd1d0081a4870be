-- DNS checks of tracking CNAMEs (PUT /v4/domains/{d}/verify): the last answer per tracking host.
-- Documented in docs/storage.md, "DNS checks".
CREATE TABLE dns_checks (
  host TEXT PRIMARY KEY NOT NULL, -- the tracking host checked, lower-cased: <web_prefix>.<domain>
  domain TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
  expected TEXT NOT NULL, -- CNAME_TARGET when it was checked; a check against another target no longer counts
  valid TEXT NOT NULL CHECK (valid IN ('valid', 'invalid')),
  cached TEXT NOT NULL DEFAULT '[]', -- JSON array: the CNAME targets the resolver gave (Mailgun's `cached`)
  checked_at INTEGER NOT NULL -- unix milliseconds
);
-- The domain's rows, for the cascade and for dropping the checks of a former prefix.
CREATE INDEX dns_checks_domain ON dns_checks (domain);
