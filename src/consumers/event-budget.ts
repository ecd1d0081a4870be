// The events consumer's budget per invocation: a batch of 100 packs would be 10,000 events, so
// past a budget the packs go back on the queue for a later invocation. Bindings: the events queue's
// producers (each pack to its domain's partition).
import { sendPartitioned } from "../db/queue-partitions";
import type { QueueMessage } from "../domain/queue-messages";
import { jsonByteLength } from "../domain/utf8";
import type { Env } from "../env";
import type { Parsed } from "./events";
import { retryDelaySeconds } from "./outcomes";

/**
 * Events one invocation stores and fans out at most. A batch of 100 packs could be 10,000 events
 * of up to 100 KB: past these, packs go back on the queue (sent again, not retried, which would
 * spend their retries), so one invocation's memory, D1 writes (statements of 900 KB) and webhook
 * sends (one call per 100 messages or 200 KB, at most 3 URLs per event) stay well inside a
 * Worker's 128 MB and 1,000 subrequests. Units: events; bytes of event JSON.
 */
export const MAX_EVENTS_PER_INVOCATION = 5000;
export const MAX_EVENT_BYTES_PER_INVOCATION = 12 * 1024 * 1024;

/** Bytes of JSON the events of a message make once unpacked. */
function unpackedBytes(body: unknown): number {
  const pack = body as { type?: unknown; common?: unknown; events?: unknown[] };
  if (pack.type !== "events" || !Array.isArray(pack.events)) return jsonByteLength(body);
  const common = jsonByteLength(pack.common);
  return pack.events.reduce<number>((sum, delta) => sum + common + jsonByteLength(delta), 0);
}

/** Splits the batch: what this invocation handles (hits and single events always), and packs past the budget. */
export function withinBudget(parsed: Parsed[]): { now: Parsed[]; later: Parsed[] } {
  const now: Parsed[] = [];
  const later: Parsed[] = [];
  let events = 0;
  let bytes = 0;
  const packs: Parsed[] = [];
  for (const item of parsed) {
    if ((item.message.body as { type?: unknown }).type !== "events") {
      now.push(item);
      events += item.items.length;
      bytes += unpackedBytes(item.message.body);
    } else packs.push(item);
  }
  for (const pack of packs) {
    const size = unpackedBytes(pack.message.body);
    const fits = events + pack.items.length <= MAX_EVENTS_PER_INVOCATION && bytes + size <= MAX_EVENT_BYTES_PER_INVOCATION;
    if (fits || now.length === 0) {
      now.push(pack);
      events += pack.items.length;
      bytes += size;
    } else later.push(pack);
  }
  return { now, later };
}

/** Sends packs past the budget back to the queue, then acks them; retries them if the queue refuses. */
export async function sendBack(env: Env, later: Parsed[]): Promise<void> {
  if (later.length === 0) return;
  try {
    await sendPartitioned(
      env,
      "events",
      later.map(({ message }) => ({ domain: (message.body as { domain: string }).domain, body: message.body as QueueMessage })),
    );
    for (const { message } of later) message.ack();
  } catch (error) {
    console.error(JSON.stringify({ msg: "could not send packs back to the queue, retrying", error: String(error) }));
    for (const { message } of later) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}
