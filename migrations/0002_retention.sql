-- Per-domain event retention (days, 2..30, default 30), enforced by the cron purge, and an index
-- so the purge finds old message metadata without scanning the table.
ALTER TABLE domains ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 2 AND 30);
CREATE INDEX messages_by_time ON messages (domain, prepared_at);
