// Standing one recorder or sink in for every partition of a partitioned queue (EVENTS, EVENTS_1, ...:
// src/domain/queue-partitions.ts), so that a test or bench that swaps a producer sees every domain's
// messages whichever partition the domain hashes to.
import { type PartitionedQueue, partitionBinding, partitionCountOfBindings } from "../../src/domain/queue-partitions";

/** `binding` under the name of each partition of `queue` that `base` (an env) binds. */
export function partitionsAs(base: object, queue: PartitionedQueue, binding: unknown): Record<string, unknown> {
  const count = partitionCountOfBindings(Object.keys(base), queue);
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [partitionBinding(queue, i), binding]));
}
