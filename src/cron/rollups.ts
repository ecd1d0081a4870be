// Stats rollups, run by the cron trigger: rolls each event shard's events past its watermark into
// the counters the Stats, Tags and Metrics APIs read, in bounded chunks (cost follows new events,
// not history), then deletes rollup rows past their retention (hourly 2 months, daily and seen-set
// a year). Bindings: DB and the event shards (through the events store's rollupSources).
import { rollupSources, rollupStateName } from "../db/events-store";
import { rollUpChunk } from "../db/rollups";
import { deleteRollupsBefore, type RollupTable } from "../db/stats-retention";
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
/** Cron period deployed: successive runs visit successive older slots. Unit: ms. */
const RUN_EVERY_MS = 5 * 60_000;

export interface RollupOptions {
  chunkEvents?: number;
  chunksPerRun?: number;
  tagLimit?: number;
  purgeRows?: number;
}

export interface RollupReport {
  events: number;
  chunks: number;
  /** Chunks another run committed first (this run's copy wrote nothing). */
  skipped: number;
  purged: number;
  unfinished: boolean;
}

export async function rollUpStats(env: Env, now: number, options: RollupOptions = {}): Promise<RollupReport> {
  const { chunkEvents = ROLLUP_CHUNK_EVENTS, chunksPerRun = ROLLUP_CHUNKS_PER_RUN, tagLimit = MAX_TAGS_PER_DOMAIN, purgeRows = ROLLUP_PURGE_ROWS } = options;
  const report: RollupReport = { events: 0, chunks: 0, skipped: 0, purged: 0, unfinished: false };
  sources: for (const source of await rollupSources(env, now, Math.floor(now / RUN_EVERY_MS))) {
    for (;;) {
      if (report.chunks + report.skipped >= chunksPerRun) {
        report.unfinished = true;
        break sources;
      }
      const { read, committed } = await rollUpChunk(env.DB, source.db, rollupStateName(source.name), chunkEvents, tagLimit);
      if (read === 0) break;
      if (committed) {
        report.events += read;
        report.chunks++;
      } else report.skipped++;
    }
  }
  const cutoffs = rollupCutoffs(Math.floor(now / 1000));
  const before: Record<RollupTable, number> = { hourly: cutoffs.hourly, daily: cutoffs.daily, dimensions: cutoffs.daily, seen: cutoffs.daily };
  let budget = ROLLUP_PURGE_CHUNKS_PER_RUN;
  for (const table of Object.keys(before) as RollupTable[]) {
    for (;;) {
      if (budget-- <= 0) return { ...report, unfinished: true };
      const deleted = await deleteRollupsBefore(env.DB, table, before[table], purgeRows);
      report.purged += deleted;
      if (deleted < purgeRows) break;
    }
  }
  return report;
}
