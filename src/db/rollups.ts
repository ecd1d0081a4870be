// The stats rollup's SQL: reads one event shard's events past that shard's watermark (their
// rowid; the read itself is in events-store.ts, design rule 4), and writes one chunk's counters,
// dimensions, seen-set rows, tags and the shard's new watermark into the stats database the
// shard feeds (stats-shards.ts) in one D1 batch, each statement guarded by the watermark the chunk
// was read at. A second run (or an overlapping one) that read the same chunk finds the watermark
// moved and writes nothing: rollups are idempotent.

import { rollupStateName } from "../domain/event-shards";
import { admitNewTags, planRollup, seenKey, seenScopes } from "../domain/rollup-plan";
import { normalizeTags, type RollupEvent, STATS_COUNTERS } from "../domain/stats-counters";
import { readEventsAfterRowid } from "./events-store";
import { jsonChunks } from "./json-chunks";
import type { EventsBindings } from "./shards";
import { type RollupTarget, rollupTargets } from "./stats-shards";

const GUARD = "(SELECT last_rowid FROM rollup_state WHERE name = ?3) = ?2";

/**
 * The upserts of counter rows (`keys` key columns, then the STATS_COUNTERS counts), one statement
 * per set of counters that are not zero, naming only those: a row of a chunk carries one or two
 * of the 19 counters, and each value pulled out of the JSON costs as much as the upsert itself.
 */
function counterUpserts(
  db: D1Database,
  table: "stats_counters" | "stats_dimensions",
  keys: readonly string[],
  conflict: string,
  rows: Array<Array<string | number>>,
  binds: [number, string],
): D1PreparedStatement[] {
  const groups = new Map<string, { columns: string[]; rows: Array<Array<string | number>> }>();
  for (const row of rows) {
    const used: number[] = [];
    for (let i = 0; i < STATS_COUNTERS.length; i++) if (row[keys.length + i] !== 0) used.push(i);
    const id = used.join(",");
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { columns: used.map((i) => STATS_COUNTERS[i]!), rows: [] }));
    group.rows.push([...row.slice(0, keys.length), ...used.map((i) => row[keys.length + i]!)]);
  }
  const statements: D1PreparedStatement[] = [];
  for (const { columns, rows: grouped } of groups.values()) {
    const picks = [...keys, ...columns].map((_, i) => `value->>${i}`).join(", ");
    const sums = columns.map((name) => `${name} = ${name} + excluded.${name}`).join(", ");
    // A row of zeros (none is planned) would still make the row: DO NOTHING keeps the statement valid.
    const sql = `INSERT INTO ${table} (${[...keys, ...columns].join(", ")}) SELECT ${picks} FROM json_each(?1) WHERE ${GUARD}
      ON CONFLICT (${conflict}) DO ${sums ? `UPDATE SET ${sums}` : "NOTHING"}`;
    for (const json of jsonChunks(grouped)) statements.push(db.prepare(sql).bind(json, ...binds));
  }
  return statements;
}

const INSERT_SEEN = `INSERT OR IGNORE INTO stats_seen (domain, message_id, recipient, scope, first_seen)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?1) WHERE ${GUARD}`;
const UPSERT_TAGS = `INSERT INTO tags (domain, tag, first_seen, last_seen)
  SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?1) WHERE ${GUARD}
  ON CONFLICT (domain, tag) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`;

/** A watermark as a database holds it, or null when it has none yet. */
async function storedWatermark(db: D1Database, name: string): Promise<number | null> {
  const row = await db.prepare("SELECT last_rowid AS w FROM rollup_state WHERE name = ?1").bind(name).first<{ w: number }>();
  return row?.w ?? null;
}

/** A shard's watermark in one database (0 before its first rollup there). */
export async function readWatermark(db: D1Database, name = "events"): Promise<number> {
  return (await storedWatermark(db, name)) ?? 0;
}

/** Moves an event shard's watermark to `rowid` in every stats database it feeds (benchmarks put it past events they seed in bulk). */
export async function setShardWatermark(env: EventsBindings, shard: string, rowid: number, now = Date.now()): Promise<void> {
  for (const target of await rollupTargets(env, shard, now)) await setWatermark(target.db, rowid, rollupStateName(shard));
}

/** Moves a watermark in one database to `rowid`. */
export async function setWatermark(db: D1Database, rowid: number, name = "events"): Promise<void> {
  await db
    .prepare("INSERT INTO rollup_state (name, last_rowid) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET last_rowid = excluded.last_rowid")
    .bind(name, rowid)
    .run();
}

export interface ChunkResult {
  /** Events read; 0 when nothing is past the watermark. */
  read: number;
  /** Those of them this stats database counts (all, unless it takes only some of the shard's domains). */
  counted: number;
  /** False when another run moved the watermark first: this chunk's writes were skipped. */
  committed: boolean;
  /** The watermark after this chunk when this run moved it (the next chunk's, without reading it again). */
  watermark?: number;
}

async function lookup<T>(db: D1Database, sql: string, keys: unknown[]): Promise<T[]> {
  const out: T[] = [];
  for (const json of jsonChunks(keys)) out.push(...(await db.prepare(sql).bind(json).all<T>()).results);
  return out;
}

/**
 * The watermark row of a shard in a stats database, made on its first rollup there (so the batch's
 * guards find it) from the control database's row for the shard, if any: what the control
 * database rolled up before the stats databases existed is counted there already (and read with
 * them), so the stats database carries on from it. Returns the watermark.
 */
async function startingWatermark(db: D1Database, control: D1Database, name: string): Promise<number> {
  const own = await storedWatermark(db, name);
  if (own !== null) return own;
  const inherited = db === control ? 0 : await readWatermark(control, name);
  await db.prepare("INSERT OR IGNORE INTO rollup_state (name, last_rowid) VALUES (?1, ?2)").bind(name, inherited).run();
  return readWatermark(db, name);
}

/** How far a shard is rolled up in a stats database (what the control database had, before its first rollup there). */
export async function rolledUpTo(db: D1Database, control: D1Database, name: string): Promise<number> {
  const own = await storedWatermark(db, name);
  return own ?? (db === control ? 0 : readWatermark(control, name));
}

/** How far every stats database an event shard feeds has rolled it up: the lowest of their watermarks. */
export async function shardRolledUpTo(env: EventsBindings, shard: string, now: number): Promise<number> {
  const targets = await rollupTargets(env, shard, now);
  const marks = await Promise.all(targets.map((target) => rolledUpTo(target.db, env.DB, rollupStateName(shard))));
  return Math.min(...marks);
}

/**
 * Rolls up at most `limit` events of one shard (`source`, its watermark named `name`) past its
 * watermark into a stats database (`target`; `control` is the control database, for a first
 * watermark); `tagLimit` is the per-domain tag cap. A target that takes only some of the shard's
 * domains counts only theirs and moves its own watermark past the rest. `known` is the watermark
 * the previous chunk of the same run left (a chunk guarded by a stale one writes nothing).
 */
export async function rollUpChunk(
  target: Pick<RollupTarget, "db" | "keep">,
  control: D1Database,
  source: D1Database,
  name: string,
  limit: number,
  tagLimit: number,
  known?: number,
): Promise<ChunkResult> {
  const db = target.db;
  const watermark = known ?? (await startingWatermark(db, control, name));
  const results = await readEventsAfterRowid(source, watermark, limit);
  if (results.length === 0) return { read: 0, counted: 0, committed: true, watermark };
  const kept = target.keep ? results.filter((row) => target.keep!(row.domain)) : results;
  const events: RollupEvent[] = kept.map((row) => ({
    ...row,
    recipient: row.recipient.toLowerCase(),
    isAuthenticated: row.isAuthenticated === 1,
    isDelayedBounce: row.isDelayedBounce === 1,
    tags: normalizeTags(row.tags ? (JSON.parse(row.tags) as string[]) : []),
  }));

  const seenCandidates = events.flatMap((e) => seenScopes(e).map((scope) => [e.domain, e.messageId ?? "", e.recipient, scope]));
  // The seen-set and the tags are looked up side by side.
  const [seenRows, tagsOf] = await Promise.all([
    lookup<{ d: string; m: string; r: string; s: string }>(
      db,
      `SELECT s.domain AS d, s.message_id AS m, s.recipient AS r, s.scope AS s FROM json_each(?1) AS j
       JOIN stats_seen AS s ON s.domain = j.value->>0 AND s.message_id = j.value->>1 AND s.recipient = j.value->>2 AND s.scope = j.value->>3`,
      seenCandidates,
    ),
    admittedTags(db, events, tagLimit),
  ]);
  const seen = new Set(seenRows.map((row) => seenKey(row.d, row.m, row.r, row.s)));
  const plan = planRollup(events, seen, tagsOf);

  const newWatermark = results[results.length - 1]!.rowid;
  const statements = [
    ...counterUpserts(db, "stats_counters", ["domain", "tag", "resolution", "bucket"], "domain, tag, resolution, bucket", plan.counters, [watermark, name]),
    ...counterUpserts(db, "stats_dimensions", ["domain", "tag", "kind", "value", "day"], "domain, tag, kind, day, value", plan.dimensions, [watermark, name]),
    ...jsonChunks(plan.seen).map((json) => db.prepare(INSERT_SEEN).bind(json, watermark, name)),
    ...jsonChunks(plan.tags).map((json) => db.prepare(UPSERT_TAGS).bind(json, watermark, name)),
    db.prepare("UPDATE rollup_state SET last_rowid = ?1 WHERE name = ?3 AND last_rowid = ?2").bind(newWatermark, watermark, name),
  ];
  const outcomes = await db.batch(statements);
  const committed = outcomes[outcomes.length - 1]!.meta.changes === 1;
  return { read: results.length, counted: events.length, committed, ...(committed ? { watermark: newWatermark } : {}) };
}

/** The tags each event keeps: those the domain already holds, and new ones while under the cap. */
async function admittedTags(db: D1Database, events: RollupEvent[], tagLimit: number): Promise<(event: RollupEvent) => string[]> {
  const met = new Map<string, [string, string]>();
  for (const e of events) for (const tag of e.tags) met.set(`${e.domain}\u0000${tag}`, [e.domain, tag]);
  if (met.size === 0) return () => [];
  const held = await lookup<{ d: string; t: string }>(
    db,
    "SELECT t.domain AS d, t.tag AS t FROM json_each(?1) AS j JOIN tags AS t ON t.domain = j.value->>0 AND t.tag = j.value->>1",
    [...met.values()],
  );
  const kept = new Set(held.map((row) => `${row.d}\u0000${row.t}`));
  const newByDomain = new Map<string, string[]>();
  for (const [key, [domain, tag]] of met) {
    if (kept.has(key)) continue;
    const list = newByDomain.get(domain);
    if (list) list.push(tag);
    else newByDomain.set(domain, [tag]);
  }
  if (newByDomain.size > 0) {
    const counts = await lookup<{ d: string; n: number }>(
      db,
      "SELECT domain AS d, count(*) AS n FROM tags WHERE domain IN (SELECT value FROM json_each(?1)) GROUP BY domain",
      [...newByDomain.keys()],
    );
    const heldBy = new Map(counts.map((row) => [row.d, row.n]));
    for (const [domain, tags] of newByDomain) for (const tag of admitNewTags(tags, heldBy.get(domain) ?? 0, tagLimit)) kept.add(`${domain}\u0000${tag}`);
  }
  return (event) => event.tags.filter((tag) => kept.has(`${event.domain}\u0000${tag}`));
}
