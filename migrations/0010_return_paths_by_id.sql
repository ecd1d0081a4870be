-- Return paths on BOUNCE_DOMAIN (docs/bounces.md) do not name the sending domain, so the email()
-- handler looks their id up alone: 80 bits of HMAC keyed per sending domain, so two domains'
-- deliveries share one only by a collision the handler treats as no match. Documented in
-- docs/storage.md, "VERP return path".
CREATE INDEX return_paths_by_id ON return_paths (id);
