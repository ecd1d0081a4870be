// Which partition of a partitioned queue carries a domain's messages (docs/scale.md, "Queues and
// their partitioning"; docs/storage.md, "Queues"): pure rules, no bindings. The events and webhooks
// queues are each P queues: partition 0 keeps the original queue and binding (tidings-events,
// EVENTS), partition i > 0 is tidings-events-<i> bound as EVENTS_<i>, so a deployment that grows
// keeps its queue and nothing in flight is lost. Every partition reaches the same consumer, so the
// choice spreads load and keeps a domain's messages together in a batch (fewer Durable Objects and
// event shards per invocation); it is never needed for correctness: a message on any partition is
// handled the same. One domain's messages are never spread over partitions.
import { domainHash } from "./event-shards";

/** The partitioned queues: partition 0's queue name and producer binding. */
export const PARTITIONED_QUEUES = {
  events: { queue: "tidings-events", binding: "EVENTS" },
  webhooks: { queue: "tidings-webhooks", binding: "WEBHOOKS" },
} as const;
export type PartitionedQueue = keyof typeof PARTITIONED_QUEUES;

const PARTITION_BINDING = /^(EVENTS|WEBHOOKS)_(\d+)$/;
const PARTITION_QUEUE = /^(tidings-events|tidings-webhooks)-(\d+)$/;

export class QueuePartitionError extends Error {}

/**
 * The partition of a domain among `count`: the FNV-1a hash the event shards use, modulo the count.
 * The domain is taken as given (producers pass the lowercased name every message carries).
 */
export function partitionOf(domain: string, count: number): number {
  return count <= 1 ? 0 : domainHash(domain) % count;
}

export function partitionBinding(queue: PartitionedQueue, index: number): string {
  const base = PARTITIONED_QUEUES[queue].binding;
  return index === 0 ? base : `${base}_${index}`;
}

export function partitionQueueName(queue: PartitionedQueue, index: number): string {
  const base = PARTITIONED_QUEUES[queue].queue;
  return index === 0 ? base : `${base}-${index}`;
}

/** True for the binding of a partition past the first (EVENTS_1, WEBHOOKS_2, ...). */
export function isExtraPartitionBinding(name: string): boolean {
  const match = PARTITION_BINDING.exec(name);
  return match !== null && Number(match[2]) > 0;
}

/**
 * The queue a consumer batch came from, as its partition 0's name: tidings-events-3 is
 * tidings-events; any other name (tidings-events-dlq included) is itself.
 */
export function queueFamilyOf(name: string): string {
  const match = PARTITION_QUEUE.exec(name);
  return match && Number(match[2]) > 0 ? match[1]! : name;
}

/**
 * How many partitions of `queue` the Worker's bindings describe: the base binding and each
 * <BASE>_<i> up to count - 1, none missing. Throws QueuePartitionError naming a gap or a missing
 * partition 0.
 */
export function partitionCountOfBindings(names: Iterable<string>, queue: PartitionedQueue): number {
  const base = PARTITIONED_QUEUES[queue].binding;
  const found = new Set<number>();
  for (const name of names) {
    if (name === base) found.add(0);
    const match = PARTITION_BINDING.exec(name);
    if (match && match[1] === base && Number(match[2]) > 0) found.add(Number(match[2]));
  }
  for (let i = 0; i < found.size; i++) {
    if (!found.has(i)) throw new QueuePartitionError(`queue binding ${partitionBinding(queue, i)} is missing (run \`npm run shards\`)`);
  }
  return found.size;
}
