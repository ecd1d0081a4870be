// The partitioned queues' block of wrangler.toml (docs/scale.md, "Queues and their partitioning"),
// for `npm run shards -- --event-queues P --webhook-queues Q`: the producers and consumers of
// tidings-events, tidings-events-1, ... and tidings-webhooks, tidings-webhooks-1, ..., between
// markers, for the top level or an environment. Partition 0 keeps the original queue and binding
// (EVENTS, WEBHOOKS), so a deployment that grows keeps its queues and what is in flight on them.
// Names and rules mirror src/domain/queue-partitions.ts. Node-side tooling: not in the Worker bundle.

/** Partitions one queue may have at most, as the shards script allows 64 databases per slot (the Worker reads whatever is bound). Unit: queues. */
export const MAX_QUEUE_PARTITIONS = 64;

/**
 * Each partitioned queue: partition 0's names and its consumer's settings (every partition of a
 * queue has the same consumer; the comments on these settings are in wrangler.toml).
 */
const QUEUES = [
  {
    key: "events",
    binding: "EVENTS",
    queue: "tidings-events",
    consumer: { max_batch_size: 100, max_batch_timeout: 1, max_retries: 10, dead_letter_queue: "tidings-events-dlq" },
  },
  {
    key: "webhooks",
    binding: "WEBHOOKS",
    queue: "tidings-webhooks",
    consumer: { max_batch_size: 3, max_batch_timeout: 1, max_retries: 10, dead_letter_queue: "tidings-events-dlq" },
  },
];

const bindingOf = (q, i) => (i === 0 ? q.binding : `${q.binding}_${i}`);
const queueOf = (q, i) => (i === 0 ? q.queue : `${q.queue}-${i}`);

export function queueMarkers(env) {
  return {
    begin: `# >>> queue partitions${env ? ` (${env})` : ""}: written by \`npm run shards\`; change them with it, not by hand`,
    end: `# <<< queue partitions${env ? ` (${env})` : ""}`,
  };
}

/**
 * The partition counts a block holds, by queue key ({events, webhooks}): of producers (contiguous
 * from partition 0) and of consumers (likewise; more than producers while dropped ones drain).
 */
export function partitionCountsOf(block) {
  const producers = {};
  const consumers = {};
  for (const q of QUEUES) {
    let count = 0;
    while (block.includes(`binding = "${bindingOf(q, count)}"\nqueue = "${queueOf(q, count)}"\n`)) count++;
    producers[q.key] = count;
    count = 0;
    while (block.includes(`queues.consumers]]\nqueue = "${queueOf(q, count)}"\n`)) count++;
    consumers[q.key] = Math.max(count, producers[q.key]);
  }
  return { producers, consumers };
}

/** Every queue name of these counts, by queue key. */
export function partitionQueueNames(counts) {
  return Object.fromEntries(QUEUES.map((q) => [q.key, Array.from({ length: counts[q.key] }, (_, i) => queueOf(q, i))]));
}

/**
 * The block for these counts ({events, webhooks}), markers included, for `env` ("" for the top
 * level); `consumed`: consumers for that many partitions (at least `counts`; more while dropped
 * partitions drain).
 */
export function partitionBlock(env, counts, consumed = counts) {
  const prefix = env ? `env.${env}.` : "";
  const { begin, end } = queueMarkers(env);
  const lines = [begin, `# ${QUEUES.map((q) => `${q.queue}: ${counts[q.key]} partition${counts[q.key] === 1 ? "" : "s"}`).join("; ")} (by domain hash).`];
  for (const q of QUEUES) {
    for (let i = 0; i < counts[q.key]; i++) lines.push(`[[${prefix}queues.producers]]`, `binding = "${bindingOf(q, i)}"`, `queue = "${queueOf(q, i)}"`, "");
  }
  for (const q of QUEUES) {
    for (let i = 0; i < consumed[q.key]; i++) {
      if (i === counts[q.key])
        lines.push(`# Draining: ${q.queue} partitions from ${i} on have no producer any more; \`npm run shards -- --force\` drops them once empty.`);
      lines.push(`[[${prefix}queues.consumers]]`, `queue = "${queueOf(q, i)}"`);
      for (const [key, value] of Object.entries(q.consumer)) lines.push(`${key} = ${typeof value === "string" ? `"${value}"` : value}`);
      lines.push("");
    }
  }
  return [...lines, end].join("\n");
}
