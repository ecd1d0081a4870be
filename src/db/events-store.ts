// The one module with SQL for events (design rule 4). Events are sharded over many D1 databases
// by day and domain (shards.ts, domain/event-shards.ts, docs/storage.md "Event shards"): this file
// routes each write to its shard and merges reads across shards; nothing outside it knows how many
// databases there are.

import type { EventQuery } from "../domain/cursor";
import { type DayKeyCount, dayEstimates, requiredKeysOf } from "../domain/event-day-keys";
import { CONTROL_DATABASE, DAY_US, dayOf, firstStorableDay, MAX_RETENTION_DAYS } from "../domain/event-shards";
import { groupBy } from "../domain/group-by";
import { keysUsable } from "../domain/key-databases";
import type { RollupEvent } from "../domain/stats-counters";
import type { EventRow } from "../domain/tracking-event";
import { emptyLedgerStatement } from "./delivery-ledger";
import { DAY_KEYS_AT, DAY_KEYS_SINCE, keyDatabases, lookupDayKeys, writeDayKeys } from "./event-day-keys";
import { type CompiledFilters, compileEventQuery, type EventsLayout } from "./event-filters";
import { sparsestTextMatch, textDrivenFrom } from "./event-text";
import { jsonChunks } from "./json-chunks";
import { LEAN_EVENT_COLUMNS, LEAN_ROLLUP_COLUMNS, type LeanRow, leanBodies, leanInsertStatements, PART_BODY } from "./lean-events";
import { type Directory, directory, type EventsBindings } from "./shards";

export type { EventsBindings } from "./shards";

/**
 * The control database keeps the layout events had before the shards (migrations/0001: every
 * column in the row, the body as JSON text); every event shard has the lean one (lean-events.ts).
 */
const layoutOf = (name: string): EventsLayout => (name === CONTROL_DATABASE ? "legacy" : "lean");

// The control database's layout. D1 binds at most 100 values per statement, so rows travel as one
// JSON parameter (jsonChunks) and are unpacked with json_each: a whole batch is one INSERT, not a
// statement per seven rows.
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

/**
 * Idempotent: an event whose id is already stored is left as it is (queues redeliver). Each row
 * goes to the shard of its domain and day, one batch per shard, all shards at once. A row older
 * than the longest retention (a dead letter replayed weeks late) is past every domain's retention
 * and is not stored: its slot may already hold another day. Returns how many rows were stored or
 * already there (the rest were expired).
 */
export async function insertEvents(env: EventsBindings, rows: EventRow[], now = Date.now()): Promise<number> {
  const dir = await directory(env, now);
  const byShard = groupBy(rows, (row) => dir.nameAt(row.domain, row.ts / 1000, now));
  const stored = [...byShard.values()].flat();
  await Promise.all([
    // Side by side with the events: if either fails the batch fails and the queue delivers it again.
    stored.length > 0 ? writeDayKeys(env, stored) : null,
    ...[...byShard].map(async ([name, shardRows]) => {
      const db = dir.database(name);
      const statements =
        layoutOf(name) === "lean"
          ? await leanInsertStatements(db, shardRows)
          : chunkRows(shardRows).flatMap((json) => [db.prepare(INSERT_EVENTS).bind(json), db.prepare(INSERT_EVENT_TAGS).bind(json)]);
      return db.batch(statements);
    }),
  ]);
  return stored.length;
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
 * How a query reads one shard for one day: the FROM clause, the columns its time order and range
 * are read from, and the conditions over them. A query of one domain naming a tag plainly is driven
 * by event_tags (that tag's rows in time order, each joined to its event by the unique (domain, ts,
 * id) index); any other query walks the events table by the best index for its conditions.
 */
interface QueryPlan {
  from: string;
  /** The columns of the time order and the keyset anchor: the driving table's. */
  ts: string;
  id: string;
  conditions: string[];
  params: unknown[];
}

/** What every shard query of one API query shares: compiled once per page. */
interface ReadPlan {
  dir: Directory;
  domains: string[];
  query: EventQuery;
  /** The filters compiled once per layout; a shard whose text index finds a term sparse compiles them again for it. */
  filters: Record<EventsLayout, CompiledFilters>;
  /** The readable range (µs, inclusive): the query's, within the longest retention of its domains and tomorrow. */
  lo: number;
  hi: number;
  /** Each domain's first readable µs; only consulted on days where they differ. */
  cutoffs: Map<string, number>;
  minCutoff: number;
  maxCutoff: number;
  /**
   * What the day keys say of a domain's day (event-day-keys.ts): 0, no event of it can match (its
   * shard is not read for it); n, at most about n match; undefined, unknown (no keyed filter, a day
   * before the keys' first, or the control database's).
   */
  estimateFor: (domain: string, day: number) => number | undefined;
  /** The same of the page's domains together: 0 when none can match, undefined when one is unknown. */
  estimate: (day: number) => number | undefined;
}

async function readPlan(env: EventsBindings, query: EventQuery, now: number): Promise<ReadPlan> {
  const domains = query.domains ?? [query.domain];
  const filters = { legacy: compileEventQuery(query.filters), lean: compileEventQuery(query.filters, { layout: "lean" }) };
  const nowUs = now * 1000;
  const hi = Math.min(query.hi ?? Number.MAX_SAFE_INTEGER, (dayOf(nowUs) + 2) * DAY_US - 1);
  // A page whose filters require keyed values asks its domains' day keys beside the rest (the
  // filters are the same for every domain: all of them have groups, or none).
  const groups = requiredKeysOf(domains, query.filters);
  const keyed = [...groups.values()].some((domainGroups) => domainGroups.length > 0);
  const keyDays: number[] = [];
  for (let day = Math.max(dayOf(query.lo ?? 0), firstStorableDay(now)); day <= dayOf(hi); day++) keyDays.push(day);
  const [dir, retention, found] = await Promise.all([
    directory(env, now),
    env.DB.prepare(
      `SELECT name, retention_days AS days, (SELECT value FROM account_settings WHERE name = ?2) AS since,
         (SELECT value FROM account_settings WHERE name = ?3) AS keysAt
       FROM domains WHERE name IN (SELECT value FROM json_each(?1))`,
    )
      .bind(JSON.stringify(domains), DAY_KEYS_SINCE, DAY_KEYS_AT)
      .all<{ name: string; days: number; since: string | null; keysAt: string | null }>(),
    keyed && keyDays.length > 0 ? lookupDayKeys(env, new Map([...groups].map(([domain, keys]) => [domain, keys.flat()])), keyDays) : null,
  ]);
  const daysOf = new Map(retention.results.map((row) => [row.name, row.days]));
  const cutoffs = new Map(domains.map((domain) => [domain, nowUs - (daysOf.get(domain) ?? MAX_RETENTION_DAYS) * DAY_US]));
  const minCutoff = Math.min(...cutoffs.values());
  const maxCutoff = Math.max(...cutoffs.values());
  const since = retention.results[0]?.since;
  // Keys written where this Worker reads them (or the layout just moved: every day is read whole).
  const usable = since != null && keysUsable(retention.results[0]?.keysAt, keyDatabases(env).count);
  const estimates = found && usable ? domainEstimates(groups, found) : null;
  const keysFrom = Number(since);
  const estimateFor = (domain: string, day: number): number | undefined => {
    if (!estimates || day < keysFrom || dir.nameFor(domain, day) === CONTROL_DATABASE) return undefined;
    const estimate = estimates.get(domain)?.get(day) ?? 0;
    return Number.isFinite(estimate) ? estimate : undefined;
  };
  return {
    dir,
    domains,
    query,
    filters,
    lo: Math.max(query.lo ?? minCutoff, minCutoff),
    hi,
    cutoffs,
    minCutoff,
    maxCutoff,
    estimateFor,
    estimate: (day) => {
      // The page's domains together: none can match, or at most the sum, unknown if one is.
      let sum = 0;
      for (const domain of domains) {
        const estimate = estimateFor(domain, day);
        if (estimate === undefined) return undefined;
        sum += estimate;
      }
      return sum;
    },
  };
}

/**
 * Each domain's day estimates (dayEstimates) from the keys found for all of them: each found key
 * goes to every domain whose groups hold it (two domains' keys can collide: each then counts it).
 */
function domainEstimates(groups: ReadonlyMap<string, number[][]>, found: readonly DayKeyCount[]): Map<string, Map<number, number>> {
  const owners = groupBy(
    [...groups].flatMap(([domain, domainGroups]) => [...new Set(domainGroups.flat())].map((key) => ({ key, domain }))),
    (owner) => owner.key,
  );
  const foundOf = groupBy(
    found.flatMap((row) => (owners.get(row.key) ?? []).map(({ domain }) => ({ domain, row }))),
    (owned) => owned.domain,
  );
  return new Map(
    [...groups].map(([domain, domainGroups]) => [
      domain,
      dayEstimates(
        domainGroups,
        (foundOf.get(domain) ?? []).map(({ row }) => row),
      ),
    ]),
  );
}

/**
 * How a shard reads the page's filters: a subject/from/to term its text index finds sparse (at
 * most TEXT_INDEX_MAX_MATCHES rows in that database) drives the page from the index; otherwise the
 * filters as compiled, told that the terms are dense there. Decided once per shard and page.
 */
interface ShardFilters {
  layout: EventsLayout;
  filters: CompiledFilters;
  driven: { sql: string; params: unknown[] } | null;
  /** The shard's text index has no match for a term every event must have: nothing to read there. */
  none: boolean;
}

async function shardFilters(read: ReadPlan, name: string, db: D1Database, decided: Map<D1Database, Promise<ShardFilters>>): Promise<ShardFilters> {
  const layout = layoutOf(name);
  const compiled = read.filters[layout];
  if (compiled.textMatches.length === 0) return { layout, filters: compiled, driven: null, none: false };
  let decision = decided.get(db);
  if (!decision) {
    decision = sparsestTextMatch(db, compiled.textMatches).then((sparsest) => ({
      layout,
      filters: compileEventQuery(read.query.filters, sparsest ? { drivenBy: sparsest.text, layout } : { denseText: true, layout }),
      driven: sparsest ? textDrivenFrom(sparsest.text, layout) : null,
      none: sparsest?.matches === 0,
    }));
    decided.set(db, decision);
  }
  return decision;
}

/** How each layout names a page's domains, joins its tags and its parts. */
const LAYOUT_SQL: Record<EventsLayout, { domain: string; domainIn: string; domainName: string; events: string; tagJoin: string; tagId: string }> = {
  legacy: {
    domain: "e.domain = ?",
    domainIn: "e.domain IN (SELECT value FROM json_each(?))",
    domainName: "e.domain",
    events: "events AS e",
    tagJoin: "event_tags AS t CROSS JOIN events AS e ON e.domain = t.domain AND e.ts = t.ts AND e.id = t.event_id",
    tagId: "t.event_id",
  },
  lean: {
    domain: "e.domain_id = (SELECT id FROM event_domains WHERE name = ?)",
    domainIn: "e.domain_id IN (SELECT id FROM event_domains WHERE name IN (SELECT value FROM json_each(?)))",
    domainName: "(SELECT name FROM event_domains WHERE id = e.domain_id)",
    events: "events AS e JOIN event_parts AS p ON p.ref = e.part",
    // The tag's rows by rowid, then each event's part.
    tagJoin: "event_tags AS t CROSS JOIN events AS e ON e.seq = t.seq CROSS JOIN event_parts AS p ON p.ref = e.part",
    tagId: "e.id",
  },
};

/**
 * A lean shard's page of one domain whose filters require a message-id, recipient or event: read
 * from that field's index. The lean indexes end in ts (and the rowid), not (ts, id), so SQLite would
 * rather walk the domain's time index, which gives the page order whole, testing every event;
 * INDEXED BY keeps it on the narrow index, sorting only events of the same microsecond by id.
 */
function leanDrivenPlan(field: "message-id" | "recipient" | "event", byDomain: { conditions: string[]; params: unknown[] }): QueryPlan {
  const parts = "JOIN event_parts AS p ON p.ref = e.part";
  const from = {
    // The message's parts by (domain, Message-ID), each joined to its events.
    "message-id": "event_parts AS p INDEXED BY event_parts_by_message CROSS JOIN events AS e INDEXED BY events_by_part ON e.part = p.ref",
    recipient: `events AS e INDEXED BY events_by_recipient ${parts}`,
    event: `events AS e INDEXED BY events_by_type ${parts}`,
  }[field];
  const conditions = [...byDomain.conditions];
  const params = [...byDomain.params];
  // The part's own domain, for its index (byDomain's one domain).
  if (field === "message-id") {
    conditions.push("p.domain_id = (SELECT id FROM event_domains WHERE name = ?)");
    params.push(byDomain.params[0]);
  }
  return { from, ts: "e.ts", id: "e.id", conditions, params };
}

/** One shard's query for one day: the domains of the page that live there, within [lo, hi]. */
function shardPlan(read: ReadPlan, { layout, filters, driven }: ShardFilters, domains: string[], lo: number, hi: number): QueryPlan {
  const sql = LAYOUT_SQL[layout];
  const tag = driven || read.query.domains ? null : filters.drivingTag;
  const byDomain = {
    conditions: [domains.length === 1 ? sql.domain : sql.domainIn],
    params: [domains.length === 1 ? domains[0] : JSON.stringify(domains)],
  };
  const plan: QueryPlan = driven
    ? // The text index's matching rowids, each joined to its event (event-text.ts).
      { from: driven.sql, ts: "e.ts", id: "e.id", conditions: byDomain.conditions, params: [...driven.params, ...byDomain.params] }
    : tag
      ? {
          // CROSS JOIN keeps event_tags the outer loop (SQLite does not reorder a CROSS JOIN).
          from: sql.tagJoin,
          ts: "t.ts",
          id: sql.tagId,
          conditions:
            layout === "lean"
              ? ["t.tag = (SELECT id FROM event_tag_names WHERE domain_id = (SELECT id FROM event_domains WHERE name = ?) AND name = ?)"]
              : ["t.domain = ?", "t.tag = ?"],
          params: [domains[0], tag],
        }
      : layout === "lean" && domains.length === 1 && filters.drivingField
        ? leanDrivenPlan(filters.drivingField, byDomain)
        : { from: sql.events, ts: "e.ts", id: "e.id", ...byDomain };
  plan.conditions.push(`${plan.ts} >= ?`, `${plan.ts} <= ?`);
  plan.params.push(lo, hi);
  // Domains of one shard with different retentions: each hides its own expired events.
  if (domains.length > 1 && read.minCutoff !== read.maxCutoff && lo < read.maxCutoff) {
    plan.conditions.push(`e.ts >= (SELECT c.value->>1 FROM json_each(?) AS c WHERE c.value->>0 = ${sql.domainName})`);
    plan.params.push(JSON.stringify(domains.map((domain) => [domain, read.cutoffs.get(domain)])));
  }
  // Every filter still applies as written (the driving tag's own check is then one index probe).
  if (filters.sql) {
    plan.conditions.push(filters.sql);
    plan.params.push(...filters.params);
  }
  return plan;
}

/** The shards holding a day's events of the page's domains, each with its domains. */
function shardsOfDay(read: ReadPlan, day: number): Array<[string, string[]]> {
  const domains = read.domains.filter((domain) => read.estimateFor(domain, day) !== 0);
  return [...groupBy(domains, (domain) => read.dir.nameFor(domain, day))];
}

/** The part of [lo, hi] on a day. */
function dayRange(day: number, lo: number, hi: number): [number, number] {
  return [Math.max(lo, day * DAY_US), Math.min(hi, (day + 1) * DAY_US - 1)];
}

const byTimeThenId = (a: StoredEvent, b: StoredEvent) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Days read at once grow 1, 2, 4, ... up to this: a dense query is answered by its first day or two,
 * a sparse one reaches 30 days back in 5 rounds instead of 30.
 */
const MAX_DAYS_PER_ROUND = 16;

/**
 * What a page and the count of the same query (the Logs API's include_totals) can share: the read
 * plan (directory, retention, day keys) and each shard's text-index decision, so the count adds
 * only its own count queries.
 */
export interface EventReads {
  plan?: Promise<ReadPlan>;
  decided: Map<D1Database, Promise<ShardFilters>>;
}

export function eventReads(): EventReads {
  return { decided: new Map() };
}

/**
 * One page of events, in the query's order. Keyset paging: "next" continues after the anchor,
 * "previous" ends before it; "last" is the final page of the range. Never OFFSET. The page walks
 * day by day from its start (the anchor's day, or the range's edge) in reading order; each day's
 * shards are read at once and merged by (ts, id). Days of one layout never change shard, so an
 * anchor (ts, id) alone places the next page. A page skips each domain's days its day keys rule
 * out (a shard none of whose domains can match is not read), and takes in a round as many days as
 * their counts say it needs (readPlan's estimate). Cost: at most one query per (day, shard holding
 * the page's domains), and one per key database holding them for the day keys: one domain over
 * 30 days' retention is at most 33 queries, and the Logs API's domains at most 32 x (databases
 * per slot + pinned ones) + the key databases; far below the 1,000 an invocation may make.
 */
export async function listEvents(
  env: EventsBindings,
  query: EventQuery,
  mode: PageMode,
  anchor?: [number, string],
  now = Date.now(),
  reads: EventReads = eventReads(),
): Promise<StoredEvent[]> {
  reads.plan ??= readPlan(env, query, now);
  const read = await reads.plan;
  // Walking backwards (previous, last) reads in the opposite order, then flips the page.
  const backwards = mode === "previous" || mode === "last";
  const ascending = query.ascending !== backwards;
  const keyset = anchor && (mode === "next" || mode === "previous") ? anchor : null;
  let { lo, hi } = read;
  if (keyset) {
    if (ascending) lo = Math.max(lo, keyset[0]);
    else hi = Math.min(hi, keyset[0]);
  }
  const out: StoredEvent[] = [];
  if (lo > hi) return out;
  const decided = reads.decided;
  const [firstDay, lastDay] = ascending ? [dayOf(lo), dayOf(hi)] : [dayOf(hi), dayOf(lo)];
  const step = ascending ? 1 : -1;
  const direction = ascending ? "ASC" : "DESC";
  // The days in reading order, less those the day keys rule out.
  const candidates: number[] = [];
  for (let day = firstDay; ascending ? day <= lastDay : day >= lastDay; day += step) if (read.estimate(day) !== 0) candidates.push(day);
  let next = 0;
  for (let round = 1; out.length < query.limit && next < candidates.length; round = Math.min(round * 2, MAX_DAYS_PER_ROUND)) {
    const want = query.limit - out.length;
    // At least `round` days, and on while the keys say the page is not full yet (an unknown day may fill it).
    const days: number[] = [];
    for (let expected = 0; next < candidates.length && (days.length < round || expected < want); next++) {
      days.push(candidates[next]!);
      expected += read.estimate(candidates[next]!) ?? want;
    }
    const pages = await Promise.all(
      days.map((d) =>
        Promise.all(
          shardsOfDay(read, d).map(async ([name, domains]) => {
            const db = read.dir.database(name);
            const filters = await shardFilters(read, name, db, decided);
            if (filters.none) return [];
            const { from, ts, id, conditions, params } = shardPlan(read, filters, domains, ...dayRange(d, lo, hi));
            if (keyset) {
              conditions.push(ascending ? `(${ts}, ${id}) > (?, ?)` : `(${ts}, ${id}) < (?, ?)`);
              params.push(keyset[0], keyset[1]);
            }
            const where = `WHERE ${conditions.join(" AND ")} ORDER BY ${ts} ${direction}, ${id} ${direction} LIMIT ?`;
            if (filters.layout === "legacy") {
              const sql = `SELECT e.ts AS ts, e.id AS id, e.domain AS domain, e.body AS body FROM ${from} ${where}`;
              return (
                await db
                  .prepare(sql)
                  .bind(...params, want)
                  .all<StoredEvent>()
              ).results;
            }
            const rows = (
              await db
                .prepare(`SELECT ${LEAN_EVENT_COLUMNS} FROM ${from} ${where}`)
                .bind(...params, want)
                .all<LeanRow>()
            ).results;
            const bodies = leanBodies(rows, true);
            return rows.map((row, i) => ({ ts: row.ts, id: row.id, domain: row.domain, body: bodies[i]! }));
          }),
        ),
      ),
    );
    for (const shards of pages) {
      const merged = shards.length === 1 ? shards[0]! : shards.flat().sort(byTimeThenId);
      if (shards.length > 1 && !ascending) merged.reverse();
      for (const event of merged) {
        if (out.length === query.limit) break;
        out.push(event);
      }
    }
  }
  return backwards ? out.reverse() : out;
}

/** How many events match a query (the Logs API's include_totals): every readable day's shards at once. */
export async function countEvents(env: EventsBindings, query: EventQuery, now = Date.now(), reads: EventReads = eventReads()): Promise<number> {
  reads.plan ??= readPlan(env, query, now);
  const read = await reads.plan;
  if (read.lo > read.hi) return 0;
  const counts: Array<Promise<number>> = [];
  const decided = reads.decided;
  for (let day = dayOf(read.lo); day <= dayOf(read.hi); day++) {
    // shardsOfDay leaves out the domains the day keys rule out on the day.
    for (const [name, domains] of shardsOfDay(read, day)) {
      const db = read.dir.database(name);
      counts.push(
        shardFilters(read, name, db, decided).then(async (filters) => {
          if (filters.none) return 0;
          const { from, conditions, params } = shardPlan(read, filters, domains, ...dayRange(day, read.lo, read.hi));
          const sql = `SELECT count(*) AS n FROM ${from} WHERE ${conditions.join(" AND ")}`;
          return (await db
            .prepare(sql)
            .bind(...params)
            .first<{ n: number }>())!.n;
        }),
      );
    }
  }
  return (await Promise.all(counts)).reduce((sum, n) => sum + n, 0);
}

/**
 * Deletes up to `limit` events of a domain older than `before` (µs), with their tags, from the
 * control database's events table (where a deployment kept its events before sharding: its days
 * are read from there until they expire), and says how many went. Bounded so a purge never holds
 * the database for long; the predicate is the cutoff, so an interrupted purge simply continues on
 * its next run and never touches newer rows. Shards are emptied a slot at a time instead
 * (emptyExpiredSlots).
 */
export async function deleteEventsBefore(env: EventsBindings, domain: string, before: number, limit: number): Promise<number> {
  const db = env.DB;
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
           AND rowid < (SELECT max(rowid) FROM events) RETURNING 1 AS gone`,
      )
      .bind(domain, before, limit),
  ]);
  // Rows, not meta.changes: D1 counts the text indexes' trigger writes there too.
  return deleted!.results.length;
}

export interface EventSource {
  /** The shard's binding name (CONTROL_DATABASE for the unsharded events table). */
  name: string;
  db: D1Database;
}

/** An event source by its binding name, or null when this Worker does not bind it. */
export async function eventSource(env: EventsBindings, name: string): Promise<EventSource | null> {
  const dir = await directory(env);
  return dir.has(name) ? { name, db: dir.database(name) } : null;
}

/** Slots of days before today that a rollup run looks at besides the recent ones, in rotation. */
const ROLLUP_RECENT_DAYS = 3;

/**
 * The shards a stats rollup run reads: those of the days events are being written to now (the
 * last ROLLUP_RECENT_DAYS, today and tomorrow: events carry the time they happened, and the queue
 * delivers them within minutes to days), the control database's own table, and one older day's
 * slot in rotation so that anything written late elsewhere is rolled up within MAX_RETENTION_DAYS runs.
 */
export async function rollupSources(env: EventsBindings, now: number, runIndex: number): Promise<EventSource[]> {
  const dir = await directory(env, now);
  const today = dayOf(now * 1000);
  const days = [today + 1, today];
  for (let back = 1; back <= ROLLUP_RECENT_DAYS; back++) days.push(today - back);
  days.push(today - ROLLUP_RECENT_DAYS - 1 - (runIndex % (MAX_RETENTION_DAYS - ROLLUP_RECENT_DAYS)));
  const names = new Set<string>([CONTROL_DATABASE]);
  for (const day of days) for (const name of dir.namesOfDay(day)) names.add(name);
  return [...names].map((name) => ({ name, db: dir.database(name) }));
}

export interface SlotPurge {
  events: number;
  /** Chunks of the budget used. */
  chunks: number;
  /** True when the chunk budget ran out first. */
  unfinished: boolean;
  /** The shards with rows still to delete when the budget ran out: the one cut short, and those not reached. */
  left: string[];
}

/**
 * Empties the slots the ring comes round to next (tomorrow's and the day after's), or only the
 * shard `only` (a job of the rollups queue carrying on where a cron run stopped): every event
 * there older than the earliest readable day, with its tags, its part (and the subjects and senders
 * once no part is left), its messages' metadata, their return paths and its webhook deliveries, in
 * chunks of `chunkRows`, and only events the stats rollup has counted (at or below what
 * `rolledUpTo` says of the shard). The predicate is the age, so emptying a shard whose slot has
 * since come round to today deletes nothing of today's.
 * Retention is then a slot emptied whole, not a row-by-row delete per domain.
 */
export async function emptyExpiredSlots(
  env: EventsBindings,
  now: number,
  budget: number,
  chunkRows: number,
  rolledUpTo: (shard: string) => Promise<number>,
  only?: string,
): Promise<SlotPurge> {
  const dir = await directory(env, now);
  const today = dayOf(now * 1000);
  const before = firstStorableDay(now) * DAY_US;
  const names = new Set(only ? [only] : [...dir.namesOfDay(today + 1), ...dir.namesOfDay(today + 2)]);
  names.delete(CONTROL_DATABASE);
  const report: SlotPurge = { events: 0, chunks: 0, unfinished: false, left: [] };
  const order = [...names];
  for (const [at, name] of order.entries()) {
    const db = dir.database(name);
    const watermark = await rolledUpTo(name);
    for (;;) {
      if (report.chunks++ >= budget) return { ...report, unfinished: true, left: order.slice(at) };
      // Tags and the messages' metadata go by their own time (the rollup reads an event's tags from its body).
      // A chunk: the oldest events the rollup has counted. Their parts go with them unless another event still holds one.
      const chunk = "SELECT seq FROM events WHERE seq <= ?1 AND ts < ?2 ORDER BY seq LIMIT ?3";
      const outcomes = await db.batch([
        db
          .prepare(
            `DELETE FROM event_tags WHERE (tag, ts, seq) IN
               (SELECT tag, ts, seq FROM event_tags WHERE ts < ?1 LIMIT ?2)`,
          )
          .bind(before, chunkRows),
        db
          .prepare(
            `DELETE FROM messages WHERE (domain, message_id, recipient) IN
               (SELECT domain, message_id, recipient FROM messages WHERE prepared_at < ?1 LIMIT ?2)`,
          )
          .bind(before / 1000, chunkRows),
        db
          .prepare(`DELETE FROM message_facts WHERE (domain, message_id) IN (SELECT domain, message_id FROM message_facts WHERE prepared_at < ?1 LIMIT ?2)`)
          .bind(before / 1000, chunkRows),
        db
          .prepare(`DELETE FROM return_paths WHERE (domain, id) IN (SELECT domain, id FROM return_paths WHERE created_at < ?1 LIMIT ?2)`)
          .bind(before / 1000, chunkRows),
        db
          .prepare(
            `DELETE FROM event_parts WHERE ref IN (SELECT part FROM events WHERE seq IN (${chunk}))
               AND NOT EXISTS (SELECT 1 FROM events AS other WHERE other.part = event_parts.ref AND other.seq NOT IN (${chunk}))`,
          )
          .bind(watermark, before, chunkRows),
        // The webhook ledger of the slot's events (delivery-ledger.ts), by when each delivery finished.
        emptyLedgerStatement(db, before / 1000, chunkRows),
        db.prepare(`DELETE FROM events WHERE seq IN (${chunk}) RETURNING 1 AS gone`).bind(watermark, before, chunkRows),
        // Subjects and senders once no part is left to name them (a part's delete trigger reads its texts).
        db.prepare("DELETE FROM event_texts WHERE id IN (SELECT id FROM event_texts LIMIT ?1) AND NOT EXISTS (SELECT 1 FROM event_parts)").bind(chunkRows),
      ]);
      // The events' rows, not meta.changes: D1 counts the text indexes' trigger writes there too.
      const events = outcomes[6]!.results.length;
      report.events += events;
      const others = [...outcomes.slice(0, 4), outcomes[5]!, outcomes[7]!];
      if (events < chunkRows && others.every((outcome) => outcome.meta.changes < chunkRows)) break;
    }
  }
  return report;
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
 * rowid range: the cost follows the rows read, not the table's size. Each shard has its own
 * watermark (rollupStateName).
 */
export async function readEventsAfterRowid(db: D1Database, rowid: number, limit: number): Promise<RollupEventRow[]> {
  if ((await databaseLayout(db)) === "lean") return readLeanEventsAfterRowid(db, rowid, limit);
  const sql = `SELECT rowid AS rowid, domain, ts, event, severity, recipient, message_id AS messageId,
      body->>'$.reason' AS reason, body->>'$.flags.is-authenticated' AS isAuthenticated,
      body->>'$.flags.is-delayed-bounce' AS isDelayedBounce, body->>'$.envelope.transport' AS transport,
      body->>'$."client-info".bot' AS bot, body->>'$."client-info"."device-type"' AS device,
      body->>'$.geolocation.country' AS country, body->>'$."recipient-domain"' AS provider, body->'$.tags' AS tags
    FROM events WHERE rowid > ?1 ORDER BY rowid LIMIT ?2`;
  return (await db.prepare(sql).bind(rowid, limit).all<RollupEventRow>()).results;
}

/**
 * Whether the control database still holds rows of before the shards that retention deletes per
 * domain (events, remembered message metadata, return paths): one query, so that a deployment
 * without any skips the per-domain purge (src/cron/retention.ts).
 */
export async function controlHoldsExpirable(env: EventsBindings): Promise<boolean> {
  const row = await env.DB.prepare(
    // The newest event is never deleted (deleteEventsBefore keeps max(rowid)): one event left is none.
    `SELECT (SELECT count(*) FROM (SELECT 1 FROM events LIMIT 2)) = 2 OR EXISTS (SELECT 1 FROM messages)
       OR EXISTS (SELECT 1 FROM message_facts) OR EXISTS (SELECT 1 FROM return_paths) AS held`,
  ).first<{ held: number }>();
  return row?.held === 1;
}

/** Per isolate: which layout a database's events table has (the rollup is handed a database, not its name). */
const layouts = new WeakMap<D1Database, Promise<EventsLayout>>();

function databaseLayout(db: D1Database): Promise<EventsLayout> {
  let layout = layouts.get(db);
  if (!layout) {
    layout = db
      .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'event_parts'")
      .first<{ n: number }>()
      .then((row): EventsLayout => (row!.n > 0 ? "lean" : "legacy"));
    layout.catch(() => layouts.delete(db));
    layouts.set(db, layout);
  }
  return layout;
}

/** A JSON value as SQLite's ->> gives it: booleans as 1 and 0, objects and arrays as JSON text, nothing as NULL. */
function sqlValue(value: unknown): string | number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" || typeof value === "string") return value;
  return JSON.stringify(value);
}

const member = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;

/**
 * readEventsAfterRowid over a lean shard: the same rows, the body's facts pulled out in JS (its
 * rest is compressed), exactly as the SQL above pulls them out of a JSON text.
 */
async function readLeanEventsAfterRowid(db: D1Database, rowid: number, limit: number): Promise<RollupEventRow[]> {
  const sql = `SELECT e.rowid AS rowid, e.severity AS severity, ${LEAN_ROLLUP_COLUMNS}
    FROM events AS e JOIN event_parts AS p ON p.ref = e.part WHERE e.rowid > ?1 ORDER BY e.rowid LIMIT ?2`;
  const rows = (await db.prepare(sql).bind(rowid, limit).all<LeanRow & { rowid: number; severity: string | null }>()).results;
  // Each part's body once, not once per event of it.
  const refs = [...new Set(rows.filter((row) => row.packed).map((row) => row.part))];
  const partBodies = new Map<number, string>();
  for (const json of jsonChunks(refs)) {
    const found = await db
      .prepare(`SELECT p.ref AS ref, ${PART_BODY} AS hex FROM event_parts AS p WHERE p.ref IN (SELECT value FROM json_each(?1))`)
      .bind(json)
      .all<{ ref: number; hex: string }>();
    for (const part of found.results) partBodies.set(part.ref, part.hex);
  }
  for (const row of rows) row.partBody = partBodies.get(row.part) ?? null;
  const bodies = leanBodies(rows);
  return rows.map((row, i) => {
    const body = bodies[i] as Record<string, unknown>;
    const flags = member(body, "flags");
    const client = member(body, "client-info");
    const tags = member(body, "tags");
    return {
      rowid: row.rowid,
      domain: row.domain,
      ts: row.ts,
      event: row.event,
      severity: row.severity,
      recipient: row.recipient,
      messageId: row.messageId,
      reason: sqlValue(member(body, "reason")),
      isAuthenticated: sqlValue(member(flags, "is-authenticated")),
      isDelayedBounce: sqlValue(member(flags, "is-delayed-bounce")),
      transport: sqlValue(member(member(body, "envelope"), "transport")),
      bot: sqlValue(member(client, "bot")),
      device: sqlValue(member(client, "device-type")),
      country: sqlValue(member(member(body, "geolocation"), "country")),
      provider: sqlValue(member(body, "recipient-domain")),
      tags: tags === undefined ? null : JSON.stringify(tags),
    } as RollupEventRow;
  });
}
