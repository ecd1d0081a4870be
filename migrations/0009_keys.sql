-- API keys made with Mailgun's Keys API (POST /v1/keys), documented in docs/storage.md, "api_keys".
-- The secret itself is never stored: only its SHA-256, the column a presented key is looked up by.
-- The API_KEY secret is the bootstrap admin key and has no row. Never edit once applied.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY, -- 8 hex - 8 hex, as Mailgun's key ids; also the secret's last 17 characters
  secret_hash TEXT NOT NULL UNIQUE, -- lowercase hex SHA-256 of the whole secret
  role TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'basic', 'sending')),
  kind TEXT NOT NULL CHECK (kind IN ('user', 'domain')),
  domain_name TEXT, -- the sending domain of a 'domain' key, lowercase; NULL for 'user' keys
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL, -- unix milliseconds
  expires_at INTEGER, -- unix milliseconds; NULL: never
  CHECK ((kind = 'domain') = (domain_name IS NOT NULL)),
  CHECK ((kind = 'domain') = (role = 'sending'))
);
