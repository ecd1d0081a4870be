// Explicit outcomes every queue consumer shares: retry delays, and parking a message that can
// never succeed on the dead-letter queue.
import type { Env } from "../env";

// Retry delays for queue messages: exponential from 10 s, capped at 10 minutes. Unit: seconds.
const FIRST_RETRY_SECONDS = 10;
const MAX_RETRY_SECONDS = 600;

export function retryDelaySeconds(attempts: number): number {
  return Math.min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** Math.max(0, attempts - 1));
}

/** Parks a message on the dead-letter queue, then acks it; retries it if the queue refuses. */
export async function deadLetter(env: Pick<Env, "EVENTS_DLQ">, queue: string, message: Message<unknown>, reason: string): Promise<void> {
  try {
    await env.EVENTS_DLQ.send({ queue, reason, body: message.body, id: message.id }, { contentType: "json" });
    message.ack();
  } catch (error) {
    console.error(JSON.stringify({ msg: "dead-letter send failed, retrying", error: String(error) }));
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}
