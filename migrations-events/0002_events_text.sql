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
--
-- Triggers keep the indexes in step, so the insert code does not change. Events are never
-- updated; the update triggers are there so that a future UPDATE cannot leave an index stale (an
-- external-content index is corrupted when a row leaves it with other text than it came with).
-- Each trigger is one statement on one line, BEGIN and END in capitals: D1's remote statement
-- splitter has cut multi-statement and multi-line trigger bodies ("incomplete input",
-- cloudflare/workers-sdk#4998, #14991, #15314).
-- Never edit once applied.
CREATE VIRTUAL TABLE events_text_subject USING fts5(subject, content='events', tokenize='trigram', detail='none', columnsize=0);
CREATE VIRTUAL TABLE events_text_from USING fts5(from_header, content='events', tokenize='trigram', detail='none', columnsize=0);
CREATE VIRTUAL TABLE events_text_to USING fts5(to_header, content='events', tokenize='trigram', detail='none', columnsize=0);

CREATE TRIGGER events_text_subject_insert AFTER INSERT ON events BEGIN INSERT INTO events_text_subject (rowid, subject) VALUES (new.rowid, new.subject); END;
CREATE TRIGGER events_text_subject_delete AFTER DELETE ON events BEGIN INSERT INTO events_text_subject (events_text_subject, rowid, subject) VALUES ('delete', old.rowid, old.subject); END;
CREATE TRIGGER events_text_subject_update_old BEFORE UPDATE OF subject ON events BEGIN INSERT INTO events_text_subject (events_text_subject, rowid, subject) VALUES ('delete', old.rowid, old.subject); END;
CREATE TRIGGER events_text_subject_update_new AFTER UPDATE OF subject ON events BEGIN INSERT INTO events_text_subject (rowid, subject) VALUES (new.rowid, new.subject); END;
CREATE TRIGGER events_text_from_insert AFTER INSERT ON events BEGIN INSERT INTO events_text_from (rowid, from_header) VALUES (new.rowid, new.from_header); END;
CREATE TRIGGER events_text_from_delete AFTER DELETE ON events BEGIN INSERT INTO events_text_from (events_text_from, rowid, from_header) VALUES ('delete', old.rowid, old.from_header); END;
CREATE TRIGGER events_text_from_update_old BEFORE UPDATE OF from_header ON events BEGIN INSERT INTO events_text_from (events_text_from, rowid, from_header) VALUES ('delete', old.rowid, old.from_header); END;
CREATE TRIGGER events_text_from_update_new AFTER UPDATE OF from_header ON events BEGIN INSERT INTO events_text_from (rowid, from_header) VALUES (new.rowid, new.from_header); END;
CREATE TRIGGER events_text_to_insert AFTER INSERT ON events BEGIN INSERT INTO events_text_to (rowid, to_header) VALUES (new.rowid, new.to_header); END;
CREATE TRIGGER events_text_to_delete AFTER DELETE ON events BEGIN INSERT INTO events_text_to (events_text_to, rowid, to_header) VALUES ('delete', old.rowid, old.to_header); END;
CREATE TRIGGER events_text_to_update_old BEFORE UPDATE OF to_header ON events BEGIN INSERT INTO events_text_to (events_text_to, rowid, to_header) VALUES ('delete', old.rowid, old.to_header); END;
CREATE TRIGGER events_text_to_update_new AFTER UPDATE OF to_header ON events BEGIN INSERT INTO events_text_to (rowid, to_header) VALUES (new.rowid, new.to_header); END;
