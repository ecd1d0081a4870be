// Stats rollups, run by the cron trigger: rolls events past the watermark into the counters the
// Stats, Tags and Metrics APIs read, in bounded chunks (cost follows new events, not history),
// then deletes rollup rows past their retention (hourly 2 months, daily and seen-set a year).
// Bindings: DB.
import { rollUpChunk } from "../db/rollups";
import { deleteRollupsBefore, type RollupTable } from "../db/stats-retention";
import { MAX_TAGS_PER_DOMAIN } from "../domain/stats-counters";
import { rollupCutoffs } from "../domain/stats-time";
import type { Env } from "../env";

/** Events per chunk: one read and one batch of writes each. */
export const ROLLUP_CHUNK_EVENTS = 1000;
/**
 * Chunks per cron run; the rest waits for the next run (every 5 minutes deployed, 30 s under
 * npm start). 200 chunks keep up with about 650 events/s sustained at one run per 5 minutes; a
 * chunk takes tens of milliseconds, mostly inside D1, so a run stays well inside a cron's limits.
 */
export const ROLLUP_CHUNKS_PER_RUN = 200;
/** Rollup rows per DELETE, and DELETEs per run. */
export const ROLLUP_PURGE_ROWS = 1000;
export const ROLLUP_PURGE_CHUNKS_PER_RUN = 20;

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
  for (let chunk = 0; ; chunk++) {
    if (chunk >= chunksPerRun) {
      report.unfinished = true;
      break;
    }
    const { read, committed } = await rollUpChunk(env.DB, chunkEvents, tagLimit);
    if (read === 0) break;
    if (committed) {
      report.events += read;
      report.chunks++;
    } else report.skipped++;
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
