// Stats rollups, run by the cron trigger: rolls each event shard's events past its watermark into
// the counters the Stats, Tags and Metrics APIs read, in the stats database the shard feeds
// (db/stats-shards.ts), in bounded chunks (cost follows new events, not history), then deletes
// rollup rows past their retention (hourly 2 months, daily a year, the seen-set 45 days) in every stats
// database, and the day keys of days that have left the ring. Bindings: DB, the event shards
// (through the events store's rollupSources), the stats databases and the key databases.
import { keyDatabases, settleDayKeysLayout } from "../db/event-day-keys";
import { type EventSource, rollupSources } from "../db/events-store";
import { moveLegacyStats } from "../db/legacy-stats";
import { rollUpChunk } from "../db/rollups";
import { deleteRollupsBefore, type RollupTable } from "../db/stats-retention";
import { type RollupTarget, rollupTargets, statsDatabases } from "../db/stats-shards";
import { firstStorableDay, rollupStateName } from "../domain/event-shards";
import { MAX_SEND_BATCH_MESSAGES } from "../domain/queue-messages";
import { MAX_TAGS_PER_DOMAIN } from "../domain/stats-counters";
import { rollupCutoffs } from "../domain/stats-time";
import type { Env } from "../env";

/**
 * Events per chunk: one read and one batch of writes each. A chunk's events share rows (a domain,
 * tag and hour): measured (`bench/shards.bench.ts`), 5,000 drain about 1.4x as fast as 1,000 did
 * and 10,000 no faster.
 */
export const ROLLUP_CHUNK_EVENTS = 5000;
/**
 * Chunks per cron run over all the (shard, stats database) pairs it visits; what is left goes to
 * the tidings-rollups queue, whose consumer has an invocation of its own (50 chunks a message).
 * The run's queries, within this step's share of the cron run's (src/cron/index.ts):
 * - a chunk makes at most 6 (the events, a lean shard's parts, the seen-set, the domain's tags and
 *   their count, the write batch): 240; 40 chunks are 200,000 events;
 * - a pair, once: its watermark (at most 4 on a stats database's first rollup of the shard) and the
 *   look that finds nothing new (1); a run visits about 6 days' slots, 6 x (databases per slot +
 *   pins) + 1 pairs, 25 deployed: at most 125;
 * - the directory and layout reads (2), the day keys' layout (1), the legacy move (at most 30),
 *   the purges (at most 20).
 * About 420 at most.
 */
export const ROLLUP_CHUNKS_PER_RUN = 40;
/** (Shard, stats database) pairs a run rolls up side by side. */
export const ROLLUP_PARALLEL = 4;
/** Rollup rows per DELETE, and DELETEs per run. */
export const ROLLUP_PURGE_ROWS = 1000;
export const ROLLUP_PURGE_CHUNKS_PER_RUN = 20;
/** Rows per chunk, and chunks per run, of the control database's tags and seen-set moved into the stats databases. */
export const LEGACY_MOVE_ROWS = 500;
export const LEGACY_MOVE_CHUNKS_PER_RUN = 10;
/** Cron period deployed: successive runs visit successive older slots. Unit: ms. */
const RUN_EVERY_MS = 5 * 60_000;

export interface RollupOptions {
  chunkEvents?: number;
  chunksPerRun?: number;
  tagLimit?: number;
  purgeRows?: number;
  /** DELETEs per run (ROLLUP_PURGE_CHUNKS_PER_RUN). */
  purgesPerRun?: number;
  /** False keeps unfinished shards for the next run instead of queueing them (a test of the run's bounds). */
  queueRest?: boolean;
}

export interface RollupReport {
  events: number;
  chunks: number;
  /** Chunks another run committed first (this run's copy wrote nothing). */
  skipped: number;
  purged: number;
  /** Shards handed to the tidings-rollups queue to finish. */
  queued: number;
  /** Tags and seen-set rows moved from the control database into the stats databases. */
  moved: number;
  unfinished: boolean;
}

export interface ShardRollup {
  events: number;
  chunks: number;
  skipped: number;
  /** True when the chunk budget ran out with events of the shard left. */
  unfinished: boolean;
}

/** Chunks an invocation may still make, shared by the shards it rolls up side by side. */
export interface ChunkBudget {
  left: number;
}

/**
 * Rolls up one event shard into one stats database past the shard's watermark there, while the
 * budget lasts (a number: that many chunks).
 */
export async function rollUpShard(
  env: Env,
  source: EventSource,
  target: RollupTarget,
  chunks: number | ChunkBudget,
  options: RollupOptions = {},
): Promise<ShardRollup> {
  const { chunkEvents = ROLLUP_CHUNK_EVENTS, tagLimit = MAX_TAGS_PER_DOMAIN } = options;
  const budget = typeof chunks === "number" ? { left: chunks } : chunks;
  const report: ShardRollup = { events: 0, chunks: 0, skipped: 0, unfinished: false };
  // The watermark this run left, so a chunk does not read it again (unknown after a skipped chunk).
  let known: number | undefined;
  for (;;) {
    if (budget.left <= 0) return { ...report, unfinished: true };
    // Reserved before the read, so shards rolled up side by side never overdraw it; a look that
    // finds nothing new (two queries) is given back, as it always was free.
    budget.left--;
    const chunk = await rollUpChunk(target, env.DB, source.db, rollupStateName(source.name), chunkEvents, tagLimit, known);
    const { read, counted, committed } = chunk;
    known = chunk.watermark;
    if (read === 0) {
      budget.left++;
      return report;
    }
    if (committed) {
      report.events += counted;
      report.chunks++;
    } else report.skipped++;
  }
}

/**
 * The cron step: rolls up the recent shards within the run's chunk budget; the shards it could not
 * finish go to the tidings-rollups queue, whose consumer carries on with each (consumers/rollups.ts).
 */
export async function rollUpStats(env: Env, now: number, options: RollupOptions = {}): Promise<RollupReport> {
  const { chunksPerRun = ROLLUP_CHUNKS_PER_RUN, purgeRows = ROLLUP_PURGE_ROWS, purgesPerRun = ROLLUP_PURGE_CHUNKS_PER_RUN, queueRest = true } = options;
  const report: RollupReport = { events: 0, chunks: 0, skipped: 0, purged: 0, queued: 0, moved: 0, unfinished: false };
  // Where the day keys are written, recorded for the pages that read them (one query).
  await settleDayKeysLayout(env, now);
  // First, so that the seen-set the rollup consults and the tags the APIs read are where they look.
  const legacy = await moveLegacyStats(env, LEGACY_MOVE_ROWS, LEGACY_MOVE_CHUNKS_PER_RUN);
  report.moved = legacy.moved;
  if (legacy.unfinished) report.unfinished = true;
  const sources = await rollupSources(env, now, Math.floor(now / RUN_EVERY_MS));
  // Each (shard, stats database) pair: usually one per shard.
  const pairs: Array<{ source: EventSource; target: RollupTarget }> = [];
  for (const source of sources) for (const target of await rollupTargets(env, source.name, now)) pairs.push({ source, target });
  // ROLLUP_PARALLEL pairs at a time: each waits on its databases most of the time (deployed, the
  // queue's consumers roll shards up side by side the same way).
  const budget: ChunkBudget = { left: chunksPerRun };
  let todo = pairs.map((_, at) => at);
  let left: number[] = [];
  for (;;) {
    left = [];
    let next = 0;
    const lane = async () => {
      while (next < todo.length && budget.left > 0) {
        const at = todo[next++]!;
        const shard = await rollUpShard(env, pairs[at]!.source, pairs[at]!.target, budget, options);
        report.events += shard.events;
        report.chunks += shard.chunks;
        report.skipped += shard.skipped;
        if (shard.unfinished) left.push(at);
      }
    };
    await Promise.all(Array.from({ length: ROLLUP_PARALLEL }, lane));
    // The unfinished pairs and those not reached. A lane may have stopped while another lane's
    // reserved chunk was still out and then given back: go round again while budget is left (each
    // round spends budget or finishes a pair, so this ends).
    left.push(...todo.slice(next));
    if (left.length === 0 || budget.left <= 0) break;
    todo = left;
  }
  if (left.length > 0) report.unfinished = true;
  if (left.length > 0 && queueRest) {
    // Each its own message, so they drain side by side.
    const jobs = left.map((at) => ({ body: { type: "rollup" as const, shard: pairs[at]!.source.name, stats: pairs[at]!.target.name } }));
    for (let i = 0; i < jobs.length; i += MAX_SEND_BATCH_MESSAGES) await env.ROLLUPS.sendBatch(jobs.slice(i, i + MAX_SEND_BATCH_MESSAGES));
    report.queued = jobs.length;
  }
  const cutoffs = rollupCutoffs(Math.floor(now / 1000));
  const before: Record<RollupTable, number> = {
    hourly: cutoffs.hourly,
    daily: cutoffs.daily,
    dimensions: cutoffs.daily,
    dayKeys: firstStorableDay(now),
    seen: cutoffs.seen,
  };
  // Every (database, table) the purge visits: the stats databases' tables (with the day keys
  // written there before the key databases), the control database's, and each key database's day
  // keys. There are more (25 deployed, 29 with the key databases) than a run's purges, so each run
  // starts a run's purges further on: every one is visited within a few runs.
  const stats = statsDatabases(env);
  const tables = Object.keys(before) as RollupTable[];
  const purging = [
    ...(stats.count > 0 ? [...stats.all(), env.DB] : stats.all()).flatMap((db) => tables.map((table) => ({ db, table }))),
    ...keyDatabases(env)
      .own()
      .map((db) => ({ db, table: "dayKeys" as const })),
  ];
  const start = (Math.floor(now / RUN_EVERY_MS) * purgesPerRun) % purging.length;
  let purges = purgesPerRun;
  for (let i = 0; i < purging.length; i++) {
    const { db, table } = purging[(start + i) % purging.length]!;
    for (;;) {
      if (purges-- <= 0) return { ...report, unfinished: true };
      const deleted = await deleteRollupsBefore(db, table, before[table], purgeRows);
      report.purged += deleted;
      if (deleted < purgeRows) break;
    }
  }
  return report;
}
