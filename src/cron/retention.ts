// Retention, run by the cron trigger. Event shards: the slots the ring comes round to next are
// emptied whole (emptyExpiredSlots); reads already hide each domain's events past its retention.
// What a run's share cannot empty goes to the tidings-rollups queue, a message per shard, each
// carried on by the queue's consumer (src/consumers/rollups.ts) until the shard is empty.
// The control database: each domain's events of before sharding (and their tags), its remembered
// message metadata older than its retention, and VERP return paths older than that or
// RETURN_PATH_MIN_DAYS, whichever is longer, in bounded chunks. Suppressions are never purged.
// Bindings: DB, the event shards (through the events store) and ROLLUPS.
import { listRetention } from "../db/domains";
import { controlHoldsExpirable, deleteEventsBefore, emptyExpiredSlots } from "../db/events-store";
import { deleteMessagesBefore } from "../db/messages";
import { deleteReturnPathsBefore, RETURN_PATH_MIN_DAYS } from "../db/return-paths";
import { shardRolledUpTo } from "../db/rollups";
import { MAX_SEND_BATCH_MESSAGES } from "../domain/queue-messages";
import type { Env } from "../env";

/** Rows per DELETE: short statements keep D1 (a single writer) free for the consumers. */
export const PURGE_CHUNK_ROWS = 2000;
/**
 * Chunks per cron run for the slots the ring comes round to next; whatever is left goes to the
 * tidings-rollups queue, a message per shard. 120 chunks of 2,000 rows at one run per 5 minutes
 * empty 69 million rows a day, against about 33 million a day at a billion events a month
 * (docs/scale.md): the queue takes the rest past ~2B. Each chunk is one batch.
 */
export const PURGE_CHUNKS_PER_RUN = 120;
/**
 * Chunks per tidings-rollups message emptying one shard (src/consumers/rollups.ts): 200,000 rows,
 * 100 batches of 8 statements, within an invocation's 1,000 queries even if D1 counted each
 * statement of a batch; the message is sent again while the shard has rows to delete.
 */
export const EMPTY_CHUNKS_PER_MESSAGE = 100;
/**
 * Queries per run for the control database's own tables (events, messages and return paths of
 * before the shards), probes that find nothing included: the cron run's queries are shared by all
 * its steps (src/cron/index.ts).
 */
export const LEGACY_PURGE_QUERIES_PER_RUN = 100;
const DAY_MS = 86_400_000;

export interface PurgeReport {
  events: number;
  messages: number;
  returnPaths: number;
  /** Shards handed to the tidings-rollups queue to finish emptying. */
  queued: number;
  /** True when the chunk budget ran out before everything old was gone. */
  unfinished: boolean;
}

/** Cron period: successive runs start LEGACY_DOMAINS_PER_RUN domains apart. Unit: ms. */
const RUN_EVERY_MS = 5 * 60_000;
/** Domains a run's legacy purge reaches when none has a backlog (3 probes each). */
const LEGACY_DOMAINS_PER_RUN = Math.floor(LEGACY_PURGE_QUERIES_PER_RUN / 3);

/**
 * The slots first, within `budget` chunks. Then the control database's tables of before the
 * shards, only while it holds any (three probes a run otherwise), each domain's in turn from a
 * different domain each run, within LEGACY_PURGE_QUERIES_PER_RUN queries, so one domain's backlog
 * cannot starve the others and the number of domains does not grow a run's queries.
 */
export async function purgeExpired(env: Env, now: number, budget = PURGE_CHUNKS_PER_RUN, chunkRows = PURGE_CHUNK_ROWS): Promise<PurgeReport> {
  const report: PurgeReport = { events: 0, messages: 0, returnPaths: 0, queued: 0, unfinished: false };
  const slots = await emptyExpiredSlots(env, now, budget, chunkRows, (shard) => shardRolledUpTo(env, shard, now));
  report.events += slots.events;
  if (slots.unfinished) {
    // Each its own message, so they empty side by side. A shard the next run finds unfinished
    // again is queued again: two jobs on one shard delete the same oldest rows, and the one that
    // finds fewer than a chunk's rows stops, so duplicates end early.
    const jobs = slots.left.map((shard) => ({ body: { type: "empty" as const, shard } }));
    for (let i = 0; i < jobs.length; i += MAX_SEND_BATCH_MESSAGES) await env.ROLLUPS.sendBatch(jobs.slice(i, i + MAX_SEND_BATCH_MESSAGES));
    return { ...report, queued: jobs.length, unfinished: true };
  }
  if (!(await controlHoldsExpirable(env))) return report;
  let queries = LEGACY_PURGE_QUERIES_PER_RUN - 1;
  const all = await listRetention(env.DB);
  // Each run starts where the one before would have stopped had every domain taken its 3 probes.
  const start = all.length > 0 ? (Math.floor(now / RUN_EVERY_MS) * LEGACY_DOMAINS_PER_RUN) % all.length : 0;
  for (const domain of [...all.slice(start), ...all.slice(0, start)]) {
    // Messages are kept as long as their events: opens and clicks can still arrive for them.
    const cutoffMs = now - domain.retentionDays * DAY_MS;
    for (const [purge, key] of [
      [() => deleteEventsBefore(env, domain.name, cutoffMs * 1000, chunkRows), "events"],
      [() => deleteMessagesBefore(env, domain.name, cutoffMs, chunkRows), "messages"],
      [() => deleteReturnPathsBefore(env, domain.name, Math.min(cutoffMs, now - RETURN_PATH_MIN_DAYS * DAY_MS), chunkRows), "returnPaths"],
    ] as const) {
      for (;;) {
        if (queries-- <= 0) return { ...report, unfinished: true };
        const deleted = await purge();
        report[key] += deleted;
        if (deleted < chunkRows) break;
      }
    }
  }
  return report;
}

/**
 * One tidings-rollups job: empties `shard` of what is past every retention, within
 * EMPTY_CHUNKS_PER_MESSAGE chunks; true when rows are left (the caller sends the job again).
 */
export async function emptyShardJob(env: Env, shard: string, now: number, chunks = EMPTY_CHUNKS_PER_MESSAGE, chunkRows = PURGE_CHUNK_ROWS): Promise<boolean> {
  const purge = await emptyExpiredSlots(env, now, chunks, chunkRows, (name) => shardRolledUpTo(env, name, now), shard);
  return purge.unfinished;
}
