-- HTTPS tracking hosts (issue 6): one row per tracking host that has asked for a certificate,
-- mirroring its Cloudflare for SaaS custom hostname. Documented in docs/storage.md, "Certificates".
CREATE TABLE certificates (
  host TEXT PRIMARY KEY NOT NULL, -- the tracking host, lower-cased: <web_prefix>.<domain>
  domain TEXT NOT NULL, -- the domain it was requested for
  hostname_id TEXT, -- Cloudflare's custom hostname id; NULL until a create succeeded
  status TEXT NOT NULL CHECK (status IN ('processing', 'active', 'expired', 'error')), -- Mailgun's x509 status
  error TEXT NOT NULL DEFAULT '', -- Cloudflare's message (API failure, or validation errors)
  hostname_status TEXT NOT NULL DEFAULT '', -- Cloudflare's custom hostname status (pending, active, ...)
  ssl_status TEXT NOT NULL DEFAULT '', -- Cloudflare's ssl.status (pending_validation, active, ...)
  cname TEXT NOT NULL DEFAULT 'unknown' CHECK (cname IN ('valid', 'invalid', 'unknown')), -- the tracking CNAME as Cloudflare sees it
  dns_records TEXT NOT NULL DEFAULT '[]', -- JSON [{type, name, value}]: records Cloudflare asks for while validation is pending
  expires_at INTEGER, -- unix milliseconds the certificate expires (Cloudflare renews it before)
  attempts INTEGER NOT NULL DEFAULT 0, -- consecutive failed checks, for the backoff
  next_check_at INTEGER NOT NULL, -- unix milliseconds: the cron checks the row again from then on
  checked_at INTEGER NOT NULL, -- unix milliseconds of the last answer from (or failure to reach) Cloudflare
  created_at INTEGER NOT NULL -- unix milliseconds
);
-- The cron step reads the rows that are due, oldest first.
CREATE INDEX certificates_due ON certificates (next_check_at);
