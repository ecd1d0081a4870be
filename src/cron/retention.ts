// Retention, run by the cron trigger. Event shards: the slots the ring comes round to next are
// emptied whole (emptyExpiredSlots); reads already hide each domain's events past its retention.
// The control database: each domain's events of before sharding (and their tags), its remembered
// message metadata older than its retention, and VERP return paths older than that or
// RETURN_PATH_MIN_DAYS, whichever is longer, in bounded chunks. Suppressions are never purged.
// Bindings: DB and the event shards (through the events store).
import { listRetention } from "../db/domains";
import { deleteEventsBefore, emptyExpiredSlots } from "../db/events-store";
import { deleteMessagesBefore } from "../db/messages";
import { deleteReturnPathsBefore, RETURN_PATH_MIN_DAYS } from "../db/return-paths";
import { shardRolledUpTo } from "../db/rollups";
import type { Env } from "../env";

/** Rows per DELETE: short statements keep D1 (a single writer) free for the consumers. */
export const PURGE_CHUNK_ROWS = 1000;
/**
 * Chunks per cron run; whatever is left goes on the next run. 200 keep pace with about 650
 * events/s stored (the same as the rollups) at one run per 5 minutes.
 */
export const PURGE_CHUNKS_PER_RUN = 200;
const DAY_MS = 86_400_000;

export interface PurgeReport {
  events: number;
  messages: number;
  returnPaths: number;
  /** True when the chunk budget ran out before everything old was gone. */
  unfinished: boolean;
}

/** Cron period: successive runs start at successive domains. Unit: ms. */
const RUN_EVERY_MS = 5 * 60_000;

/**
 * The budget counts chunks that deleted something (an empty probe is one index lookup), and each
 * run starts at a different domain, so one domain's backlog cannot starve the others.
 */
export async function purgeExpired(env: Env, now: number, budget = PURGE_CHUNKS_PER_RUN, chunkRows = PURGE_CHUNK_ROWS): Promise<PurgeReport> {
  const report: PurgeReport = { events: 0, messages: 0, returnPaths: 0, unfinished: false };
  const slots = await emptyExpiredSlots(env, now, budget, chunkRows, (shard) => shardRolledUpTo(env, shard, now));
  report.events += slots.events;
  if (slots.unfinished) return { ...report, unfinished: true };
  budget -= slots.chunks;
  const all = await listRetention(env.DB);
  const start = all.length > 0 ? Math.floor(now / RUN_EVERY_MS) % all.length : 0;
  for (const domain of [...all.slice(start), ...all.slice(0, start)]) {
    // Messages are kept as long as their events: opens and clicks can still arrive for them.
    const cutoffMs = now - domain.retentionDays * DAY_MS;
    for (const [purge, key] of [
      [() => deleteEventsBefore(env, domain.name, cutoffMs * 1000, chunkRows), "events"],
      [() => deleteMessagesBefore(env, domain.name, cutoffMs, chunkRows), "messages"],
      [() => deleteReturnPathsBefore(env, domain.name, Math.min(cutoffMs, now - RETURN_PATH_MIN_DAYS * DAY_MS), chunkRows), "returnPaths"],
    ] as const) {
      for (;;) {
        if (budget <= 0) return { ...report, unfinished: true };
        const deleted = await purge();
        if (deleted > 0) budget--;
        report[key] += deleted;
        if (deleted < chunkRows) break;
      }
    }
  }
  return report;
}
