-- Lean events (issue 12, docs/storage.md "Event shards", "events"): a stored event costs a few
-- hundred bytes instead of 2.7 KB.
-- - event_domains: each domain's name once, a small integer in every row and index instead.
-- - event_parts: what every event of one message repeats (tags, user variables, message headers),
--   stored once per shard, compressed, found by the hash of its content; the message-id, subject,
--   from and to the filters read are its columns (subject and from by id: event_texts), and the
--   trigram indexes cover it instead of every event.
-- - events: the row keeps the columns the filters and the page order need (the event's name as a
--   byte), and the rest of the body compressed (a BLOB). Indexes carry the rowid, not the event id, except the unique one.
-- - event_tags: a tag's id (event_tag_names: the domain and the tag) and the event's rowid instead
--   of the domain's name, the tag and the event id.
-- Rows already here (a shard written before this migration) are copied across as they are: their
-- body stays the JSON text it was, each with a part of its own holding its columns (typeof(body)
-- tells the two apart on read). The rowid sequence carries on where it was, so the stats rollup's
-- watermark stays valid. Each trigger is one statement on one line (migrations-events/0002 says why).
-- Never edit once applied.
CREATE TABLE event_domains (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
INSERT INTO event_domains (name) SELECT DISTINCT domain FROM events ORDER BY domain;

-- Subjects and senders once each: a campaign's subject and a sender's From are shared by thousands
-- of messages. Kept while any part may name them (emptied with the slot).
CREATE TABLE event_texts (
  id INTEGER PRIMARY KEY,
  text TEXT NOT NULL UNIQUE
);
INSERT INTO event_texts (text) SELECT subject FROM events WHERE subject IS NOT NULL UNION SELECT from_header FROM events WHERE from_header IS NOT NULL;

CREATE TABLE event_parts (
  ref INTEGER PRIMARY KEY,
  hash BLOB UNIQUE, -- 12 bytes of SHA-256 over the domain, the columns and `body`'s JSON; NULL for a copied row's part
  domain_id INTEGER NOT NULL,
  message_key INTEGER, -- messageKey(message_id) (src/domain/lean-event.ts); the copy below computes it in SQL (messageKeySql)
  message_id TEXT,
  subject_id INTEGER, -- event_texts.id
  from_id INTEGER, -- event_texts.id
  to_header TEXT,
  body BLOB -- src/domain/lean-event.ts (format byte, deflated JSON); NULL for a copied row's part
);
-- A copied row's part takes the row's own seq as its ref: unique, and below every new part's.
INSERT INTO event_parts (ref, hash, domain_id, message_key, message_id, subject_id, from_id, to_header, body)
  SELECT e.seq, NULL, d.id, ((((((((((((((((length(e.message_id)) * 131 + CASE WHEN (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 1 >= 1 THEN unicode(substr(e.message_id, (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 1, 1)) ELSE 0 END) % 2147483648) * 131 + CASE WHEN (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 2 >= 1 THEN unicode(substr(e.message_id, (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 2, 1)) ELSE 0 END) % 2147483648) * 131 + CASE WHEN (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 3 >= 1 THEN unicode(substr(e.message_id, (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 3, 1)) ELSE 0 END) % 2147483648) * 131 + CASE WHEN (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 4 >= 1 THEN unicode(substr(e.message_id, (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 4, 1)) ELSE 0 END) % 2147483648) * 131 + CASE WHEN (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 5 >= 1 THEN unicode(substr(e.message_id, (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 5, 1)) ELSE 0 END) % 2147483648) * 131 + CASE WHEN (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 6 >= 1 THEN unicode(substr(e.message_id, (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 6, 1)) ELSE 0 END) % 2147483648) * 131 + CASE WHEN (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 7 >= 1 THEN unicode(substr(e.message_id, (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 7, 1)) ELSE 0 END) % 2147483648) * 131 + CASE WHEN (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 8 >= 1 THEN unicode(substr(e.message_id, (CASE instr(e.message_id, '@') WHEN 0 THEN length(e.message_id) + 1 ELSE instr(e.message_id, '@') END) - 8, 1)) ELSE 0 END) % 2147483648, e.message_id, (SELECT id FROM event_texts WHERE text = e.subject), (SELECT id FROM event_texts WHERE text = e.from_header), e.to_header, NULL
  FROM events AS e JOIN event_domains AS d ON d.name = e.domain;
-- A part with its texts, as the text indexes read it.
CREATE VIEW event_parts_text AS
  SELECT p.ref AS ref, s.text AS subject, f.text AS from_header, p.to_header AS to_header
  FROM event_parts AS p LEFT JOIN event_texts AS s ON s.id = p.subject_id LEFT JOIN event_texts AS f ON f.id = p.from_id;
CREATE INDEX event_parts_by_message ON event_parts (domain_id, message_key);

CREATE TABLE events_lean (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, -- the rowid; the rollup's watermark
  domain_id INTEGER NOT NULL, -- event_domains.id
  ts INTEGER NOT NULL, -- microseconds since the epoch
  id TEXT NOT NULL,
  event NOT NULL, -- a byte for a known name (EVENT_CODES in src/domain/lean-event.ts: accepted 1, rejected 2, delivered 3, failed 4, opened 5, clicked 6, unsubscribed 7, complained 8, stored 9), else the name; no type, so no affinity turns one into the other
  severity TEXT,
  recipient TEXT NOT NULL, -- lower-cased
  size INTEGER,
  part INTEGER NOT NULL, -- event_parts.ref
  body BLOB NOT NULL -- the rest of the event (src/domain/lean-event.ts), or a copied row's JSON text
);
-- The sequence first (a dummy row, gone at once), then the rows: a row deleted at the top of the
-- old sequence (an emptied slot) must not have its rowid handed out again.
INSERT OR IGNORE INTO events_lean (seq, domain_id, ts, id, event, recipient, part, body)
  SELECT seq, 0, 0, '', '', '', 0, '' FROM sqlite_sequence WHERE name = 'events';
DELETE FROM events_lean;
INSERT INTO events_lean (seq, domain_id, ts, id, event, severity, recipient, size, part, body)
  SELECT e.seq, d.id, e.ts, e.id,
    CASE e.event WHEN 'accepted' THEN 1 WHEN 'rejected' THEN 2 WHEN 'delivered' THEN 3 WHEN 'failed' THEN 4 WHEN 'opened' THEN 5
      WHEN 'clicked' THEN 6 WHEN 'unsubscribed' THEN 7 WHEN 'complained' THEN 8 WHEN 'stored' THEN 9 ELSE e.event END,
    e.severity, e.recipient, e.size, e.seq, e.body
  FROM events AS e JOIN event_domains AS d ON d.name = e.domain;

-- A domain's tags once each; event_tags names them by id.
CREATE TABLE event_tag_names (
  id INTEGER PRIMARY KEY,
  domain_id INTEGER NOT NULL,
  name TEXT NOT NULL, -- lower-cased
  UNIQUE (domain_id, name)
);
INSERT INTO event_tag_names (domain_id, name)
  SELECT DISTINCT d.id, t.tag FROM event_tags AS t JOIN event_domains AS d ON d.name = t.domain ORDER BY 1, 2;
CREATE TABLE event_tags_lean (
  tag INTEGER NOT NULL, -- event_tag_names.id: the domain and the tag
  ts INTEGER NOT NULL,
  seq INTEGER NOT NULL, -- events.seq
  PRIMARY KEY (tag, ts, seq)
) WITHOUT ROWID;
INSERT INTO event_tags_lean (tag, ts, seq)
  SELECT n.id, t.ts, e.seq FROM event_tags AS t JOIN event_domains AS d ON d.name = t.domain
    JOIN event_tag_names AS n ON n.domain_id = d.id AND n.name = t.tag
    JOIN events AS e ON e.domain = t.domain AND e.ts = t.ts AND e.id = t.event_id;

-- The old tables go, with their indexes, text indexes and triggers.
DROP TRIGGER events_text_subject_insert;
DROP TRIGGER events_text_subject_delete;
DROP TRIGGER events_text_subject_update_old;
DROP TRIGGER events_text_subject_update_new;
DROP TRIGGER events_text_from_insert;
DROP TRIGGER events_text_from_delete;
DROP TRIGGER events_text_from_update_old;
DROP TRIGGER events_text_from_update_new;
DROP TRIGGER events_text_to_insert;
DROP TRIGGER events_text_to_delete;
DROP TRIGGER events_text_to_update_old;
DROP TRIGGER events_text_to_update_new;
DROP TABLE events_text_subject;
DROP TABLE events_text_from;
DROP TABLE events_text_to;
DROP TABLE event_tags;
DROP TABLE events;
ALTER TABLE events_lean RENAME TO events;
ALTER TABLE event_tags_lean RENAME TO event_tags;

-- The unique index is the insert's idempotency (a redelivered event is ignored) and the time walk;
-- the others end in ts and, implicitly, the rowid: a page sorts ties of ts by id itself.
CREATE UNIQUE INDEX events_by_domain_time ON events (domain_id, ts, id);
CREATE INDEX events_by_recipient ON events (domain_id, recipient, ts);
CREATE INDEX events_by_type ON events (domain_id, event, ts);
CREATE INDEX events_by_part ON events (part);

-- The trigram indexes of migrations-events/0002, over the parts (their texts through the view): a
-- message's subject, from and to are indexed once, not once per event. Parts are only inserted and
-- deleted; the update triggers are there so that a future UPDATE cannot leave an index stale (as in
-- 0002). A text outlives every part naming it, so the delete triggers can read it.
CREATE VIRTUAL TABLE events_text_subject USING fts5(subject, content='event_parts_text', content_rowid='ref', tokenize='trigram', detail='none', columnsize=0);
CREATE VIRTUAL TABLE events_text_from USING fts5(from_header, content='event_parts_text', content_rowid='ref', tokenize='trigram', detail='none', columnsize=0);
CREATE VIRTUAL TABLE events_text_to USING fts5(to_header, content='event_parts_text', content_rowid='ref', tokenize='trigram', detail='none', columnsize=0);
CREATE TRIGGER events_text_subject_insert AFTER INSERT ON event_parts BEGIN INSERT INTO events_text_subject (rowid, subject) VALUES (new.ref, (SELECT text FROM event_texts WHERE id = new.subject_id)); END;
CREATE TRIGGER events_text_subject_delete AFTER DELETE ON event_parts BEGIN INSERT INTO events_text_subject (events_text_subject, rowid, subject) VALUES ('delete', old.ref, (SELECT text FROM event_texts WHERE id = old.subject_id)); END;
CREATE TRIGGER events_text_subject_update_old BEFORE UPDATE OF subject_id ON event_parts BEGIN INSERT INTO events_text_subject (events_text_subject, rowid, subject) VALUES ('delete', old.ref, (SELECT text FROM event_texts WHERE id = old.subject_id)); END;
CREATE TRIGGER events_text_subject_update_new AFTER UPDATE OF subject_id ON event_parts BEGIN INSERT INTO events_text_subject (rowid, subject) VALUES (new.ref, (SELECT text FROM event_texts WHERE id = new.subject_id)); END;
CREATE TRIGGER events_text_from_insert AFTER INSERT ON event_parts BEGIN INSERT INTO events_text_from (rowid, from_header) VALUES (new.ref, (SELECT text FROM event_texts WHERE id = new.from_id)); END;
CREATE TRIGGER events_text_from_delete AFTER DELETE ON event_parts BEGIN INSERT INTO events_text_from (events_text_from, rowid, from_header) VALUES ('delete', old.ref, (SELECT text FROM event_texts WHERE id = old.from_id)); END;
CREATE TRIGGER events_text_from_update_old BEFORE UPDATE OF from_id ON event_parts BEGIN INSERT INTO events_text_from (events_text_from, rowid, from_header) VALUES ('delete', old.ref, (SELECT text FROM event_texts WHERE id = old.from_id)); END;
CREATE TRIGGER events_text_from_update_new AFTER UPDATE OF from_id ON event_parts BEGIN INSERT INTO events_text_from (rowid, from_header) VALUES (new.ref, (SELECT text FROM event_texts WHERE id = new.from_id)); END;
CREATE TRIGGER events_text_to_insert AFTER INSERT ON event_parts BEGIN INSERT INTO events_text_to (rowid, to_header) VALUES (new.ref, new.to_header); END;
CREATE TRIGGER events_text_to_delete AFTER DELETE ON event_parts BEGIN INSERT INTO events_text_to (events_text_to, rowid, to_header) VALUES ('delete', old.ref, old.to_header); END;
CREATE TRIGGER events_text_to_update_old BEFORE UPDATE OF to_header ON event_parts BEGIN INSERT INTO events_text_to (events_text_to, rowid, to_header) VALUES ('delete', old.ref, old.to_header); END;
CREATE TRIGGER events_text_to_update_new AFTER UPDATE OF to_header ON event_parts BEGIN INSERT INTO events_text_to (rowid, to_header) VALUES (new.ref, new.to_header); END;
INSERT INTO events_text_subject (events_text_subject) VALUES ('rebuild');
INSERT INTO events_text_from (events_text_from) VALUES ('rebuild');
INSERT INTO events_text_to (events_text_to) VALUES ('rebuild');
