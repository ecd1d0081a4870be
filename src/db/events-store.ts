// The one module with SQL for events (design rule 4). It picks the D1 database for a domain, so
// sharding events over several databases later changes this file and nothing else.

import type { EventQuery } from "../domain/cursor";
import type { RollupEvent } from "../domain/stats-counters";
import type { EventRow } from "../domain/tracking-event";
import { compileEventQuery } from "./event-filters";
import { jsonChunks } from "./json-chunks";

export interface EventsBindings {
  DB: D1Database;
}

/** Where a domain's events live. One database today; the place to shard by domain tomorrow. */
export function databaseFor(env: EventsBindings, _domain: string): D1Database {
  return env.DB;
}

// D1 binds at most 100 values per statement, so rows travel as one JSON parameter (jsonChunks)
// and are unpacked with json_each: a whole batch is one INSERT, not a statement per seven rows.
const INSERT_EVENTS = `INSERT OR IGNORE INTO events
  (id, domain, ts, event, severity, recipient, from_header, to_header, subject, message_id, size, body)
  SELECT value->>'id', value->>'domain', value->>'ts', value->>'event', value->>'severity',
         value->>'recipient', value->>'from', value->>'to', value->>'subject', value->>'messageId',
         value->>'size', value->>'body'
  FROM json_each(?1)`;
const INSERT_EVENT_TAGS = `INSERT OR IGNORE INTO event_tags (domain, tag, ts, event_id)
  SELECT e.value->>'domain', t.value, e.value->>'ts', e.value->>'id'
  FROM json_each(?1) AS e, json_each(e.value->'tags') AS t`;

/** Rows as JSON parameters for json_each, the body as a JSON string column. */
function chunkRows(rows: EventRow[]): string[] {
  return jsonChunks(rows.map((row) => ({ ...row, body: JSON.stringify(row.body) })));
}

/** Idempotent: an event whose id is already stored is left as it is (queues redeliver). */
export async function insertEvents(env: EventsBindings, rows: EventRow[]): Promise<void> {
  const byDatabase = new Map<D1Database, EventRow[]>();
  for (const row of rows) {
    const db = databaseFor(env, row.domain);
    const group = byDatabase.get(db);
    if (group) group.push(row);
    else byDatabase.set(db, [row]);
  }
  await Promise.all(
    [...byDatabase].map(([db, dbRows]) => {
      const statements = chunkRows(dbRows).flatMap((json) => [db.prepare(INSERT_EVENTS).bind(json), db.prepare(INSERT_EVENT_TAGS).bind(json)]);
      return db.batch(statements);
    }),
  );
}

export type PageMode = "first" | "next" | "previous" | "last";

export interface StoredEvent {
  ts: number;
  id: string;
  domain: string;
  /** The event's JSON text, served without re-serializing. */
  body: string;
}

/**
 * How a query reads: the FROM clause, the columns its time order and range are read from, and the
 * conditions over them. A query of one domain naming a tag plainly is driven by event_tags (that
 * tag's rows in time order, each joined to its event by the unique (domain, ts, id) index); any
 * other query walks the events table by the best index for its conditions.
 */
interface QueryPlan {
  from: string;
  /** The columns of the time order and the keyset anchor: the driving table's. */
  ts: string;
  id: string;
  conditions: string[];
  params: unknown[];
}

function queryPlan(query: EventQuery): QueryPlan {
  const filters = compileEventQuery(query.filters);
  const tag = query.domains ? null : filters.drivingTag;
  const plan: QueryPlan = tag
    ? {
        // CROSS JOIN keeps event_tags the outer loop (SQLite does not reorder a CROSS JOIN).
        from: "event_tags AS t CROSS JOIN events AS e ON e.domain = t.domain AND e.ts = t.ts AND e.id = t.event_id",
        ts: "t.ts",
        id: "t.event_id",
        conditions: ["t.domain = ?", "t.tag = ?"],
        params: [query.domain, tag],
      }
    : {
        from: "events AS e",
        ts: "e.ts",
        id: "e.id",
        // The Logs API reads several domains at once; they share one database today (see databaseFor).
        conditions: [query.domains ? "e.domain IN (SELECT value FROM json_each(?))" : "e.domain = ?"],
        params: [query.domains ? JSON.stringify(query.domains) : query.domain],
      };
  if (query.lo !== null) {
    plan.conditions.push(`${plan.ts} >= ?`);
    plan.params.push(query.lo);
  }
  if (query.hi !== null) {
    plan.conditions.push(`${plan.ts} <= ?`);
    plan.params.push(query.hi);
  }
  // Every filter still applies as written (the driving tag's own check is then one index probe).
  if (filters.sql) {
    plan.conditions.push(filters.sql);
    plan.params.push(...filters.params);
  }
  return plan;
}

/**
 * One page of events, in the query's order. Keyset paging: "next" continues after the anchor,
 * "previous" ends before it; "last" is the final page of the range. Never OFFSET.
 */
export async function listEvents(env: EventsBindings, query: EventQuery, mode: PageMode, anchor?: [number, string]): Promise<StoredEvent[]> {
  const { from, ts, id, conditions, params } = queryPlan(query);
  // Walking backwards (previous, last) reads in the opposite order, then flips the page.
  const backwards = mode === "previous" || mode === "last";
  const readAscending = query.ascending !== backwards;
  if (anchor && (mode === "next" || mode === "previous")) {
    conditions.push(readAscending ? `(${ts}, ${id}) > (?, ?)` : `(${ts}, ${id}) < (?, ?)`);
    params.push(anchor[0], anchor[1]);
  }
  const direction = readAscending ? "ASC" : "DESC";
  const sql = `SELECT e.ts AS ts, e.id AS id, e.domain AS domain, e.body AS body FROM ${from}
    WHERE ${conditions.join(" AND ")}
    ORDER BY ${ts} ${direction}, ${id} ${direction} LIMIT ?`;
  params.push(query.limit);
  const { results } = await databaseFor(env, query.domain)
    .prepare(sql)
    .bind(...params)
    .all<StoredEvent>();
  return backwards ? results.reverse() : results;
}

/** How many events match a query (the Logs API's include_totals). */
export async function countEvents(env: EventsBindings, query: EventQuery): Promise<number> {
  const { from, conditions, params } = queryPlan(query);
  const sql = `SELECT count(*) AS n FROM ${from} WHERE ${conditions.join(" AND ")}`;
  return (await databaseFor(env, query.domain)
    .prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;
}

/**
 * Deletes up to `limit` events of a domain older than `before` (µs), with their tags, and says how
 * many went. Bounded so a purge never holds the database for long; the predicate is the cutoff,
 * so an interrupted purge simply continues on its next run and never touches newer rows.
 */
export async function deleteEventsBefore(env: EventsBindings, domain: string, before: number, limit: number): Promise<number> {
  const db = databaseFor(env, domain);
  const [, deleted] = await db.batch([
    db
      .prepare(
        `DELETE FROM event_tags WHERE (domain, tag, ts, event_id) IN
           (SELECT domain, tag, ts, event_id FROM event_tags WHERE domain = ?1 AND ts < ?2 LIMIT ?3)`,
      )
      .bind(domain, before, limit * 4),
    db
      // The newest row (max rowid) stays until a newer one arrives: SQLite gives a new row max(rowid)+1,
      // so deleting it would let rowids be reused below the stats rollup's watermark (db/rollups.ts).
      .prepare(
        `DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE domain = ?1 AND ts < ?2 ORDER BY ts LIMIT ?3)
           AND rowid < (SELECT max(rowid) FROM events)`,
      )
      .bind(domain, before, limit),
  ]);
  return deleted!.meta.changes;
}

/** What the stats rollup reads of an event: the body's facts it counts by, pulled out in SQL. */
export type RollupEventRow = Omit<RollupEvent, "tags" | "isAuthenticated" | "isDelayedBounce"> & {
  rowid: number;
  /** The body's tags as JSON text. */
  tags: string | null;
  isAuthenticated: number | null;
  isDelayedBounce: number | null;
};

/**
 * Up to `limit` events inserted after `rowid`, in insert order (the stats rollup's watermark). A
 * rowid range: the cost follows the rows read, not the table's size. The rollup reads the one
 * database; with events sharded, each database gets its own watermark.
 */
export async function readEventsAfterRowid(db: D1Database, rowid: number, limit: number): Promise<RollupEventRow[]> {
  const sql = `SELECT rowid AS rowid, domain, ts, event, severity, recipient, message_id AS messageId,
      body->>'$.reason' AS reason, body->>'$.flags.is-authenticated' AS isAuthenticated,
      body->>'$.flags.is-delayed-bounce' AS isDelayedBounce, body->>'$.envelope.transport' AS transport,
      body->>'$."client-info".bot' AS bot, body->>'$."client-info"."device-type"' AS device,
      body->>'$.geolocation.country' AS country, body->>'$."recipient-domain"' AS provider, body->'$.tags' AS tags
    FROM events WHERE rowid > ?1 ORDER BY rowid LIMIT ?2`;
  return (await db.prepare(sql).bind(rowid, limit).all<RollupEventRow>()).results;
}
