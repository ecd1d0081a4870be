// Stats rollups, run by the cron trigger: rolls each event shard's events past its watermark into
// the counters the Stats, Tags and Metrics APIs read, in the stats database the shard feeds
// (db/stats-shards.ts), in bounded chunks (cost follows new events, not history), then deletes
// rollup rows past their retention (hourly 2 months, daily and seen-set a year) in every stats
// database. Bindings: DB, the event shards (through the events store's rollupSources) and the
// stats databases.
import { type EventSource, rollupSources } from "../db/events-store";
import { moveLegacyStats } from "../db/legacy-stats";
import { rollUpChunk } from "../db/rollups";
import { deleteRollupsBefore, type RollupTable } from "../db/stats-retention";
import { type RollupTarget, rollupTargets, statsDatabases } from "../db/stats-shards";
import { rollupStateName } from "../domain/event-shards";
import { MAX_SEND_BATCH_MESSAGES } from "../domain/queue-messages";
import { MAX_TAGS_PER_DOMAIN } from "../domain/stats-counters";
import { rollupCutoffs } from "../domain/stats-time";
import type { Env } from "../env";

/** Events per chunk: one read and one batch of writes each. */
export const ROLLUP_CHUNK_EVENTS = 1000;
/**
 * Chunks per cron run over all the shards it visits (a look at a shard with nothing new, two
 * queries, is not counted: a run looks at about 6 days' slots, 6 x (databases per slot + pins) + 1
 * shards); the rest waits for the next run (every 5 minutes deployed, 30 s under npm start). A chunk makes at
 * most 5 queries (watermark, events, seen-set, tags, the write batch), so 150 chunks and the purges
 * below stay under the 1,000 queries an invocation may make; 150 chunks of 1,000 keep up with
 * about 500 events/s sustained at one run per 5 minutes. More needs the rollup fanned out through
 * a queue, a shard per message (docs/scale.md).
 */
export const ROLLUP_CHUNKS_PER_RUN = 150;
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

/** Rolls up one event shard into one stats database past the shard's watermark there, at most `chunks` chunks. */
export async function rollUpShard(env: Env, source: EventSource, target: RollupTarget, chunks: number, options: RollupOptions = {}): Promise<ShardRollup> {
  const { chunkEvents = ROLLUP_CHUNK_EVENTS, tagLimit = MAX_TAGS_PER_DOMAIN } = options;
  const report: ShardRollup = { events: 0, chunks: 0, skipped: 0, unfinished: false };
  for (;;) {
    if (report.chunks + report.skipped >= chunks) return { ...report, unfinished: true };
    const { read, counted, committed } = await rollUpChunk(target, env.DB, source.db, rollupStateName(source.name), chunkEvents, tagLimit);
    if (read === 0) return report;
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
  const { chunksPerRun = ROLLUP_CHUNKS_PER_RUN, purgeRows = ROLLUP_PURGE_ROWS, queueRest = true } = options;
  const report: RollupReport = { events: 0, chunks: 0, skipped: 0, purged: 0, queued: 0, moved: 0, unfinished: false };
  // First, so that the seen-set the rollup consults and the tags the APIs read are where they look.
  const legacy = await moveLegacyStats(env, LEGACY_MOVE_ROWS, LEGACY_MOVE_CHUNKS_PER_RUN);
  report.moved = legacy.moved;
  if (legacy.unfinished) report.unfinished = true;
  const sources = await rollupSources(env, now, Math.floor(now / RUN_EVERY_MS));
  // Each (shard, stats database) pair: usually one per shard.
  const pairs: Array<{ source: EventSource; target: RollupTarget }> = [];
  for (const source of sources) for (const target of await rollupTargets(env, source.name, now)) pairs.push({ source, target });
  let next = 0;
  for (; next < pairs.length; next++) {
    const left = chunksPerRun - report.chunks - report.skipped;
    if (left <= 0) break;
    const shard = await rollUpShard(env, pairs[next]!.source, pairs[next]!.target, left, options);
    report.events += shard.events;
    report.chunks += shard.chunks;
    report.skipped += shard.skipped;
    if (shard.unfinished) break;
  }
  if (next < pairs.length) report.unfinished = true;
  if (next < pairs.length && queueRest) {
    // The unfinished pair and those not reached: each its own message, so they drain side by side.
    const jobs = pairs.slice(next).map(({ source, target }) => ({ body: { type: "rollup" as const, shard: source.name, stats: target.name } }));
    for (let i = 0; i < jobs.length; i += MAX_SEND_BATCH_MESSAGES) await env.ROLLUPS.sendBatch(jobs.slice(i, i + MAX_SEND_BATCH_MESSAGES));
    report.queued = jobs.length;
  }
  const cutoffs = rollupCutoffs(Math.floor(now / 1000));
  const before: Record<RollupTable, number> = { hourly: cutoffs.hourly, daily: cutoffs.daily, dimensions: cutoffs.daily, seen: cutoffs.daily };
  let budget = ROLLUP_PURGE_CHUNKS_PER_RUN;
  const stats = statsDatabases(env);
  const databases = stats.count > 0 ? [...stats.all(), env.DB] : stats.all();
  for (const db of databases) {
    for (const table of Object.keys(before) as RollupTable[]) {
      for (;;) {
        if (budget-- <= 0) return { ...report, unfinished: true };
        const deleted = await deleteRollupsBefore(db, table, before[table], purgeRows);
        report.purged += deleted;
        if (deleted < purgeRows) break;
      }
    }
  }
  return report;
}
