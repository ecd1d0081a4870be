-- Trigram indexes for the Events API's subject, from and to "contains" filters (docs/storage.md,
-- "events_text_*"): a term of three characters or more is looked up here instead of testing LIKE
-- on every event of the domain (src/db/event-filters.ts). The same as the control database's
-- migrations/0012_events_text.sql, which also indexes the rows it already holds.
--
-- One FTS5 table per column, each an external-content index over `events` (content='events': the
-- text is not stored twice; rowid is the event's rowid, here `seq`). tokenize='trigram' folds case
-- (LIKE folds ASCII only, so the index can only return more rows, never fewer; the LIKE still
-- decides). detail='none' keeps only which rows hold each trigram, no positions or columns, and
-- columnsize=0 drops the per-row sizes used for ranking: the filters rank nothing, and together
-- they cut the index to about a third of detail='full'.
-- Triggers keep the indexes in step, so the insert code does not change. Events are never
-- updated; the update trigger is there so that a future UPDATE cannot leave an index stale (an
-- external-content index is corrupted if a row is deleted from it with other text than it got).
-- Never edit once applied.
CREATE VIRTUAL TABLE events_text_subject USING fts5(subject, content='events', tokenize='trigram', detail='none', columnsize=0);
CREATE VIRTUAL TABLE events_text_from USING fts5(from_header, content='events', tokenize='trigram', detail='none', columnsize=0);
CREATE VIRTUAL TABLE events_text_to USING fts5(to_header, content='events', tokenize='trigram', detail='none', columnsize=0);

CREATE TRIGGER events_text_insert AFTER INSERT ON events BEGIN
  INSERT INTO events_text_subject (rowid, subject) VALUES (new.rowid, new.subject);
  INSERT INTO events_text_from (rowid, from_header) VALUES (new.rowid, new.from_header);
  INSERT INTO events_text_to (rowid, to_header) VALUES (new.rowid, new.to_header);
END;

CREATE TRIGGER events_text_delete AFTER DELETE ON events BEGIN
  INSERT INTO events_text_subject (events_text_subject, rowid, subject) VALUES ('delete', old.rowid, old.subject);
  INSERT INTO events_text_from (events_text_from, rowid, from_header) VALUES ('delete', old.rowid, old.from_header);
  INSERT INTO events_text_to (events_text_to, rowid, to_header) VALUES ('delete', old.rowid, old.to_header);
END;

CREATE TRIGGER events_text_update AFTER UPDATE OF subject, from_header, to_header ON events BEGIN
  INSERT INTO events_text_subject (events_text_subject, rowid, subject) VALUES ('delete', old.rowid, old.subject);
  INSERT INTO events_text_from (events_text_from, rowid, from_header) VALUES ('delete', old.rowid, old.from_header);
  INSERT INTO events_text_to (events_text_to, rowid, to_header) VALUES ('delete', old.rowid, old.to_header);
  INSERT INTO events_text_subject (rowid, subject) VALUES (new.rowid, new.subject);
  INSERT INTO events_text_from (rowid, from_header) VALUES (new.rowid, new.from_header);
  INSERT INTO events_text_to (rowid, to_header) VALUES (new.rowid, new.to_header);
END;
