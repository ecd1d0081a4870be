// Routes each queue's batches to its consumer: a table from queue name to handler. Every partition
// of the events and webhooks queues (tidings-events-1, ...: src/domain/queue-partitions.ts) reaches
// its queue's consumer, so the table names partition 0's queue only.
import { queueFamilyOf } from "../domain/queue-partitions";
import type { Env } from "../env";
import { consumeDeadLetters } from "./dead-letters";
import { consumeDeliveries } from "./delivery";
import { consumeEvents } from "./events";
import { consumeRollups } from "./rollups";
import { consumeWebhooks } from "./webhooks";

type Consumer = (batch: MessageBatch<unknown>, env: Env) => Promise<void>;

// A Map: a queue name is looked up as given, never on an object's prototype.
const CONSUMERS = new Map<string, Consumer>([
  ["tidings-events", consumeEvents],
  ["tidings-events-dlq", consumeDeadLetters],
  ["tidings-delivery", consumeDeliveries],
  ["tidings-webhooks", (batch, env) => consumeWebhooks(batch, env)],
  ["tidings-rollups", (batch, env) => consumeRollups(batch, env)],
]);

export async function handleQueue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
  const consumer = CONSUMERS.get(queueFamilyOf(batch.queue));
  if (!consumer) {
    // A queue bound by mistake: fail loudly so the platform retries, then dead-letters, its messages.
    throw new Error(`no consumer for queue ${batch.queue}`);
  }
  await consumer(batch, env);
}
