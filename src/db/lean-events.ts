// The SQL of an event shard's lean layout (migrations-events/0003, docs/storage.md "events"): rows
// written with each message's part stored once (event_parts, by the hash of its content) and the
// rest compressed (domain/lean-event.ts), and read back as the very JSON that was given. Used by
// events-store.ts only (design rule 4); the control database keeps the layout of migrations/0001.
import {
  eventBody,
  eventCode,
  eventName,
  type LeanEvent,
  leanEvent,
  messageKey,
  type PartColumns,
  readPart,
  type StoredPart,
  storedPart,
} from "../domain/lean-event";
import type { EventRow } from "../domain/tracking-event";
import { jsonChunks } from "./json-chunks";

/** Bytes of SHA-256 a part is found by: 96 bits, so that no two parts of a shard ever share one. */
const PART_HASH_BYTES = 12;

// D1 binds at most 100 values per statement, so rows travel as one JSON parameter unpacked with
// json_each (blobs as hex, unhex'd in SQL): a whole batch is six statements, whatever its size.
const INSERT_DOMAINS = "INSERT OR IGNORE INTO event_domains (name) SELECT DISTINCT value->>'domain' FROM json_each(?1)";
// Only a part's first row in the batch carries it; INSERT OR IGNORE keeps a part already stored.
const INSERT_TEXTS = `INSERT OR IGNORE INTO event_texts (text)
  SELECT value->>'subject' FROM json_each(?1) WHERE value->>'subject' IS NOT NULL
  UNION SELECT value->>'from' FROM json_each(?1) WHERE value->>'from' IS NOT NULL`;
const INSERT_PARTS = `INSERT OR IGNORE INTO event_parts (hash, domain_id, message_key, message_id, subject_id, from_id, to_header, body)
  SELECT unhex(j.value->>'hash'), d.id, j.value->>'messageKey', j.value->>'messageId', (SELECT id FROM event_texts WHERE text = j.value->>'subject'),
         (SELECT id FROM event_texts WHERE text = j.value->>'from'), j.value->>'to', unhex(j.value->>'part')
  FROM json_each(?1) AS j JOIN event_domains AS d ON d.name = j.value->>'domain' WHERE j.value->>'part' IS NOT NULL`;
const INSERT_EVENTS = `INSERT OR IGNORE INTO events (domain_id, ts, id, event, severity, recipient, size, part, body)
  SELECT d.id, j.value->>'ts', j.value->>'id', j.value->>'event', j.value->>'severity', j.value->>'recipient', j.value->>'size',
         (SELECT ref FROM event_parts WHERE hash = unhex(j.value->>'hash')), unhex(j.value->>'rest')
  FROM json_each(?1) AS j JOIN event_domains AS d ON d.name = j.value->>'domain'`;
const INSERT_TAG_NAMES = `INSERT OR IGNORE INTO event_tag_names (domain_id, name)
  SELECT DISTINCT d.id, t.value FROM json_each(?1) AS j JOIN event_domains AS d ON d.name = j.value->>'domain', json_each(j.value->'tags') AS t`;
// CROSS JOIN fixes the order (SQLite keeps it): each of an event's tags is looked up by the
// (domain_id, name) key. Left to itself the planner put event_tag_names before the tags and walked
// every tag name of the domain for each event (up to MAX_TAGS_PER_DOMAIN of them).
export const INSERT_EVENT_TAGS = `INSERT OR IGNORE INTO event_tags (tag, ts, seq)
  SELECT n.id, e.ts, e.seq
  FROM json_each(?1) AS j JOIN event_domains AS d ON d.name = j.value->>'domain'
    JOIN events AS e ON e.domain_id = d.id AND e.ts = j.value->>'ts' AND e.id = j.value->>'id'
    CROSS JOIN json_each(j.value->'tags') AS t CROSS JOIN event_tag_names AS n
  WHERE n.domain_id = d.id AND n.name = t.value`;

function partIdentity(domain: string, columns: PartColumns, partJson: string): string {
  return JSON.stringify([domain, columns.messageId, columns.subject, columns.from, columns.to, partJson]);
}

async function partHash(identity: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(identity));
  return new Uint8Array(digest, 0, PART_HASH_BYTES).toHex();
}

/** A row as a lean shard stores it: its part's hash (hex) and blobs. */
export interface EncodedRow {
  row: EventRow;
  lean: LeanEvent;
  hash: string;
}

/** Rows to what leanInsertStatements binds (pure but for WebCrypto's digest). */
export async function encodeLeanRows(rows: EventRow[]): Promise<EncodedRow[]> {
  // A batch often holds several events of one message (a pack's accepted and delivered, a reader's
  // open and click): its part is hashed once.
  const hashes = new Map<string, Promise<string>>();
  return Promise.all(
    rows.map(async (row) => {
      const lean = leanEvent(row);
      const identity = partIdentity(row.domain, lean.columns, lean.partJson);
      let hash = hashes.get(identity);
      if (!hash) hashes.set(identity, (hash = partHash(identity)));
      return { row, lean, hash: await hash };
    }),
  );
}

/** One shard's batch of rows as the statements that store them, in order, for one db.batch. */
export async function leanInsertStatements(db: D1Database, rows: EventRow[]): Promise<D1PreparedStatement[]> {
  const seen = new Set<string>();
  const params = (await encodeLeanRows(rows)).map(({ row, lean, hash }) => {
    const first = !seen.has(hash);
    seen.add(hash);
    return {
      domain: row.domain,
      ts: row.ts,
      id: row.id,
      event: eventCode(row.event),
      severity: row.severity,
      recipient: row.recipient,
      size: row.size,
      tags: row.tags,
      hash,
      rest: lean.rest.toHex(),
      ...(first
        ? { ...lean.columns, messageKey: lean.columns.messageId === null ? null : messageKey(lean.columns.messageId), part: storedPart(lean.partJson).toHex() }
        : {}),
    };
  });
  return jsonChunks(params).flatMap((json) =>
    [INSERT_DOMAINS, INSERT_TEXTS, INSERT_PARTS, INSERT_EVENTS, INSERT_TAG_NAMES, INSERT_EVENT_TAGS].map((sql) => db.prepare(sql).bind(json)),
  );
}

/** What a lean page or rollup query selects besides its own columns: the event's and its part's. */
/** A stored rest or part as hex text: D1 hands a BLOB over as an array of numbers, which costs more than the rest of a read. */
const REST = "CASE typeof(e.body) WHEN 'blob' THEN hex(e.body) ELSE e.body END AS body, typeof(e.body) = 'blob' AS packed";
export const PART_BODY = "CASE WHEN p.body IS NULL THEN NULL ELSE hex(p.body) END";

export const LEAN_EVENT_COLUMNS = `e.id AS id, e.ts AS ts, e.event AS event, e.recipient AS recipient, ${REST}, e.part AS part,
  ${PART_BODY} AS partBody, p.message_id AS messageId, p.to_header AS toHeader,
  (SELECT text FROM event_texts WHERE id = p.subject_id) AS subject, (SELECT text FROM event_texts WHERE id = p.from_id) AS fromHeader,
  (SELECT name FROM event_domains WHERE id = e.domain_id) AS domain`;

/**
 * What the stats rollup reads of a lean event (events-store.ts): LEAN_EVENT_COLUMNS without the
 * part's body (read once per part instead) and its subject and From, which it does not count by.
 */
export const LEAN_ROLLUP_COLUMNS = `e.id AS id, e.ts AS ts, e.event AS event, e.recipient AS recipient, ${REST}, e.part AS part,
  NULL AS partBody, p.message_id AS messageId, p.to_header AS toHeader, NULL AS subject, NULL AS fromHeader,
  (SELECT name FROM event_domains WHERE id = e.domain_id) AS domain`;

/** A row of LEAN_EVENT_COLUMNS. */
export interface LeanRow {
  id: string;
  ts: number;
  /** eventCode's: leanBodies turns it back into the name. */
  event: number | string;
  recipient: string;
  domain: string;
  /** The compressed rest as hex (`packed` 1), or the whole JSON text of a row copied from the layout before. */
  body: string;
  packed: number;
  part: number;
  /** The part's stored body as hex; null for a copied row's part. */
  partBody: string | null;
  messageId: string | null;
  subject: string | null;
  fromHeader: string | null;
  toHeader: string | null;
}

/**
 * Rows of one query to their bodies: a body with its JSON text as it was stored, or as an object
 * (`asText` false, for the rollup); each row's `event` becomes the name again. Each part is
 * inflated once per query (refs are per shard).
 */
export function leanBodies(rows: LeanRow[]): Array<string | Record<string, unknown>>;
export function leanBodies(rows: LeanRow[], asText: true): string[];
export function leanBodies(rows: LeanRow[], asText = false): Array<string | Record<string, unknown>> {
  const parts = new Map<number, StoredPart>();
  return rows.map((row) => {
    row.event = eventName(row.event);
    if (!row.packed) return asText ? row.body : (JSON.parse(row.body) as Record<string, unknown>);
    let part = parts.get(row.part);
    if (!part) {
      part = readPart(Uint8Array.fromHex(row.partBody!));
      parts.set(row.part, part);
    }
    const body = eventBody({
      id: row.id,
      ts: row.ts,
      event: row.event,
      recipient: row.recipient,
      rest: Uint8Array.fromHex(row.body),
      part,
      columns: { messageId: row.messageId, subject: row.subject, from: row.fromHeader, to: row.toHeader },
    });
    return asText ? JSON.stringify(body) : body;
  });
}
