// Dead-letter queue consumer: records every parked message in D1's dead_letters table, whether it
// was parked by a consumer (malformed) or by the queue itself after max_retries. Bindings: DB.
import { type DeadLetter, recordDeadLetters } from "../db/dead-letters";
import type { Env } from "../env";
import { retryDelaySeconds } from "./outcomes";

function toDeadLetter(queue: string, body: unknown): DeadLetter {
  if (body && typeof body === "object" && "reason" in body && "queue" in body && "body" in body) {
    const parked = body as { queue: unknown; reason: unknown; body: unknown };
    return { queue: String(parked.queue), reason: String(parked.reason), body: parked.body };
  }
  // Moved here by the platform after the source queue's max_retries.
  return { queue, reason: "retries exhausted", body };
}

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  try {
    await recordDeadLetters(
      env.DB,
      batch.messages.map((m) => toDeadLetter(batch.queue, m.body)),
    );
    batch.ackAll();
  } catch (error) {
    console.error(JSON.stringify({ msg: "dead letters not recorded, retrying", error: String(error) }));
    for (const message of batch.messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}
