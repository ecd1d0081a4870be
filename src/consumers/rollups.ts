// tidings-rollups: one event shard's stats rollup, or its emptying, per message, continued from
// where the cron run (or the previous message) stopped, within one invocation's query budget, and
// sent on again while events remain. The watermark guards every rollup write, so a repeated
// message rolls up nothing twice; emptying deletes by age alone, so a repeated one deletes nothing
// that was not already due.
import { EMPTY_CHUNKS_PER_MESSAGE, emptyShardJob } from "../cron/retention";
import { rollUpShard } from "../cron/rollups";
import { eventSource } from "../db/events-store";
import { rollupTargets } from "../db/stats-shards";
import { rollupsQueueJobSchema } from "../domain/queue-messages";
import type { Env } from "../env";

/**
 * Chunks per message: each makes at most 6 queries (src/cron/rollups.ts, ROLLUP_CHUNKS_PER_RUN),
 * plus the pair's watermark (at most 4) and the directory: about 310 of the 1,000 an invocation
 * may make (batches are one message, wrangler.toml). 250,000 events per invocation, a few seconds
 * of CPU (the plan is about 12 ms per 1,000 events).
 */
export const ROLLUP_CHUNKS_PER_MESSAGE = 50;

export async function consumeRollups(
  batch: MessageBatch<unknown>,
  env: Env,
  chunks = ROLLUP_CHUNKS_PER_MESSAGE,
  emptying: { chunks: number; chunkRows?: number; now?: number } = { chunks: EMPTY_CHUNKS_PER_MESSAGE },
): Promise<void> {
  for (const message of batch.messages) {
    const job = rollupsQueueJobSchema.safeParse(message.body);
    const source = job.success ? await eventSource(env, job.data.shard) : null;
    if (!job.success || !source) {
      // Nothing to retry: a malformed job, or a shard no longer bound (the cron finds what is left).
      console.error(JSON.stringify({ msg: "rollup job dropped", reason: job.success ? "no such event shard" : "malformed" }));
      message.ack();
      continue;
    }
    const data = job.data;
    if (data.type === "empty") {
      if (await emptyShardJob(env, source.name, emptying.now ?? Date.now(), emptying.chunks, emptying.chunkRows))
        await env.ROLLUPS.send({ type: "empty", shard: source.name });
      message.ack();
      continue;
    }
    // A job without `stats` (sent before the stats databases) is every stats database the shard feeds.
    const targets = (await rollupTargets(env, source.name, Date.now())).filter((target) => !data.stats || target.name === data.stats);
    for (const target of targets) {
      // The invocation's budget shared among them.
      const report = await rollUpShard(env, source, target, Math.max(1, Math.floor(chunks / targets.length)));
      if (report.unfinished) await env.ROLLUPS.send({ type: "rollup", shard: source.name, stats: target.name });
    }
    message.ack();
  }
}
