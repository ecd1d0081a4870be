-- Trigram indexes for the Events API's subject, from and to "contains" filters (docs/storage.md,
-- "events_text_*"), as in an event shard (migrations-events/0002_events_text.sql, which explains
-- the choices): a term of three characters or more is looked up here instead of testing LIKE on
-- every event of the domain (src/db/event-filters.ts). Here the control database's `events`
-- already holds rows (the days before the upgrade to shards), so the indexes are built from them
-- at the end ('rebuild' reads every row of the content table once).
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

INSERT INTO events_text_subject (events_text_subject) VALUES ('rebuild');
INSERT INTO events_text_from (events_text_from) VALUES ('rebuild');
INSERT INTO events_text_to (events_text_to) VALUES ('rebuild');
