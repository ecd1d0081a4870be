// Events queue consumer: validates each message, turns hits into Mailgun-shaped events, writes a
// batch into D1 in one round trip (insert-or-ignore on the event id, so redelivery changes
// nothing), applies unsubscribes to the domain's Durable Object, then acks, retries with backoff
// or dead-letters each message. Bindings: DB, DOMAIN_STATE, EVENTS_DLQ.
import { insertEvents } from "../db/events-store";
import { loadMessageMetadata, messageKey } from "../db/messages";
import { queueMessageSchema, type TrackingHit } from "../domain/queue-messages";
import { buildTrackingEvent, toEventRow, type EventRow } from "../domain/tracking-event";
import { ALL_TAGS, type UnsubscribeRecord } from "../durable-objects/domain-state";
import type { Env } from "../env";
import { retryDelaySeconds } from "./backoff";

interface Parsed {
  message: Message<unknown>;
  hit: TrackingHit;
}

export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const parsed: Parsed[] = [];
  for (const message of batch.messages) {
    const result = queueMessageSchema.safeParse(message.body);
    if (result.success) {
      parsed.push({ message, hit: result.data });
    } else {
      await deadLetter(env, batch.queue, message, `malformed: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
  }
  if (parsed.length === 0) return;

  let rows: EventRow[];
  try {
    const metadata = await loadMessageMetadata(env, parsed.map(({ hit }) => hit));
    rows = parsed.map(({ hit }) => toEventRow(hit.domain, buildTrackingEvent(hit, metadata.get(messageKey(hit)))));
    await insertEvents(env, rows);
  } catch (error) {
    console.error(JSON.stringify({ msg: "events batch write failed, retrying", error: String(error) }));
    for (const { message } of parsed) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }

  const failedDomains = await applyUnsubscribes(env, parsed, rows);
  for (const { message, hit } of parsed) {
    if (failedDomains.has(hit.domain) && hit.event === "unsubscribed") {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    } else {
      message.ack();
    }
  }
}

/** One call per domain with unsubscribes in the batch; returns the domains whose call failed. */
async function applyUnsubscribes(env: Env, parsed: Parsed[], rows: EventRow[]): Promise<Set<string>> {
  const byDomain = new Map<string, UnsubscribeRecord[]>();
  parsed.forEach(({ hit }, i) => {
    if (hit.event !== "unsubscribed") return;
    // A tag unsubscribe leaves the message's tags; with no tags on the message it leaves the domain.
    const tags = hit.scope === "tags" && rows[i]!.tags.length > 0 ? rows[i]!.tags : [ALL_TAGS];
    const records = byDomain.get(hit.domain) ?? [];
    records.push({ address: hit.recipient, tags, createdAt: Math.floor(hit.ts / 1000) });
    byDomain.set(hit.domain, records);
  });
  const failed = new Set<string>();
  await Promise.all(
    [...byDomain].map(async ([domain, records]) => {
      try {
        await env.DOMAIN_STATE.get(env.DOMAIN_STATE.idFromName(domain)).addUnsubscribes(records);
      } catch (error) {
        console.error(JSON.stringify({ msg: "unsubscribe apply failed, retrying", domain, error: String(error) }));
        failed.add(domain);
      }
    }),
  );
  return failed;
}

/** Parks a message that can never succeed on the dead-letter queue, then acks it. */
async function deadLetter(env: Env, queue: string, message: Message<unknown>, reason: string): Promise<void> {
  try {
    await env.EVENTS_DLQ.send({ queue, reason, body: message.body, id: message.id }, { contentType: "json" });
    message.ack();
  } catch (error) {
    console.error(JSON.stringify({ msg: "dead-letter send failed, retrying", error: String(error) }));
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}
