// The producer side of the partitioned queues (rules in src/domain/queue-partitions.ts): which
// binding carries a domain's messages on tidings-events and tidings-webhooks. The partition count
// is that of the bindings present (EVENTS, EVENTS_1, ...; written by `npm run shards`), so there is
// no setting that could disagree with them; they are read once per env object (an isolate's env
// does not change), which keeps the tracking edge's cost at a hash of the domain.
import { groupBy } from "../domain/group-by";
import type { QueueMessage } from "../domain/queue-messages";
import { PARTITIONED_QUEUES, type PartitionedQueue, partitionBinding, partitionCountOfBindings, partitionOf } from "../domain/queue-partitions";
import type { WebhookJob } from "../domain/webhooks";
import type { Env } from "../env";
import { sendInBatches } from "./queue-batches";

interface Bodies {
  events: QueueMessage;
  webhooks: WebhookJob;
}
/** What a producer needs: partition 0's binding (the others are read from the same object). */
type QueueEnv<Q extends PartitionedQueue> = Q extends "events" ? Pick<Env, "EVENTS"> : Pick<Env, "WEBHOOKS">;

const cache = new WeakMap<object, Partial<Record<PartitionedQueue, Array<Queue<unknown>>>>>();

/** Every partition's producer of `queue`, in order. Throws QueuePartitionError on a gap in the bindings. */
export function partitionQueues<Q extends PartitionedQueue>(env: QueueEnv<Q>, queue: Q): Array<Queue<Bodies[Q]>> {
  let byQueue = cache.get(env);
  if (!byQueue) cache.set(env, (byQueue = {}));
  let queues = byQueue[queue];
  if (!queues) {
    const bindings = env as unknown as Record<string, Queue<unknown>>;
    const count = partitionCountOfBindings(Object.keys(env), queue);
    if (count === 0) throw new Error(`queue binding ${PARTITIONED_QUEUES[queue].binding} is missing`);
    queues = byQueue[queue] = Array.from({ length: count }, (_, i) => bindings[partitionBinding(queue, i)]!);
  }
  return queues as Array<Queue<Bodies[Q]>>;
}

/** The producer of the partition that carries `domain`'s messages on `queue`. */
export function queueFor<Q extends PartitionedQueue>(env: QueueEnv<Q>, queue: Q, domain: string): Queue<Bodies[Q]> {
  const queues = partitionQueues(env, queue);
  return queues[partitionOf(domain, queues.length)]!;
}

/**
 * Sends messages of any domains, each to its domain's partition: grouped by partition, then in
 * sendBatch calls within the platform's limits. Partitions are sent one after the other; should one
 * refuse, the caller's retry sends the whole list again (every consumer ignores a repeat).
 */
export async function sendPartitioned<Q extends PartitionedQueue>(
  env: QueueEnv<Q>,
  queue: Q,
  items: Array<{ domain: string; body: Bodies[Q]; delaySeconds?: number }>,
): Promise<void> {
  const queues = partitionQueues(env, queue);
  for (const [partition, group] of groupBy(items, (item) => partitionOf(item.domain, queues.length))) {
    await sendInBatches(
      queues[partition]!,
      group.map(({ body, delaySeconds }) => (delaySeconds === undefined ? { body } : { body, delaySeconds })),
    );
  }
}
