// Events queue consumer: validates each message, turns hits into Mailgun-shaped events (ready
// events from the send path, delivery and inbound mail are stored as they come), writes the batch
// into D1 in one round trip (insert-or-ignore on the event id, so redelivery changes nothing),
// applies suppression side effects to each domain's Durable Object (unsubscribes, hard bounces,
// complaints: one call per kind and domain), fans each event out to the webhooks queue, then acks,
// retries with backoff or dead-letters each message. Bindings: DB, DOMAIN_STATE, EVENTS_DLQ, WEBHOOKS.
import { insertEvents } from "../db/events-store";
import { derivedId } from "../domain/base64url";
import { loadMessageMetadata, messageKey } from "../db/messages";
import { queueMessageSchema, type ReadyEvent, type TrackingHit } from "../domain/queue-messages";
import { valueOrThrow } from "../domain/refusal";
import { buildTrackingEvent, toEventRow, type EventRow, type MailgunEvent } from "../domain/tracking-event";
import { ALL_TAGS, type BounceRecord, type ComplaintRecord, type UnsubscribeRecord } from "../durable-objects/domain-state";
import type { Env } from "../env";
import { deadLetter, retryDelaySeconds } from "./outcomes";
import { fanOutWebhooks } from "./webhook-fanout";

interface Parsed {
  message: Message<unknown>;
  body: (TrackingHit & { id: string }) | ReadyEvent;
  row?: EventRow;
}

export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const parsed: Parsed[] = [];
  for (const message of batch.messages) {
    const result = queueMessageSchema.safeParse(message.body);
    if (result.success) {
      const body = result.data;
      // A hit's event id comes from the queue message's id, the same in every redelivery.
      if (body.type === "hit") parsed.push({ message, body: { ...body, id: body.id ?? (await derivedId("hit", message.id)) } });
      else parsed.push({ message, body });
    } else {
      await deadLetter(env, batch.queue, message, `malformed: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
  }
  if (parsed.length === 0) return;

  try {
    const hits = parsed.flatMap(({ body }) => (body.type === "hit" ? [body] : []));
    const metadata = hits.length > 0 ? await loadMessageMetadata(env, hits) : new Map();
    for (const item of parsed) {
      const { body } = item;
      item.row =
        body.type === "hit"
          ? toEventRow(body.domain, buildTrackingEvent(body, metadata.get(messageKey(body))))
          : toEventRow(body.domain, body.event as unknown as MailgunEvent);
    }
    await insertEvents(env, parsed.map((item) => item.row!));
  } catch (error) {
    console.error(JSON.stringify({ msg: "events batch write failed, retrying", error: String(error) }));
    for (const { message } of parsed) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }

  const failedDomains = await applySuppressions(env, parsed);
  // Retrying a message after a failed fan-out may queue a delivery twice; the webhooks ledger
  // makes sure a URL that already answered 2xx is not posted to again.
  let fannedOut = true;
  try {
    await fanOutWebhooks(env, parsed.map((item) => ({ domain: item.body.domain, event: item.row!.body })));
  } catch (error) {
    fannedOut = false;
    console.error(JSON.stringify({ msg: "webhook fan-out failed, retrying", error: String(error) }));
  }
  for (const item of parsed) {
    if (!fannedOut || (failedDomains.has(item.body.domain) && hasSideEffect(item))) {
      item.message.retry({ delaySeconds: retryDelaySeconds(item.message.attempts) });
    } else {
      item.message.ack();
    }
  }
}

interface DomainWrites {
  unsubscribes: UnsubscribeRecord[];
  bounces: BounceRecord[];
  complaints: ComplaintRecord[];
}

/** A permanent failure from the remote server (in session, or a later DSN) makes a hard bounce. */
function bounceOf(event: MailgunEvent): BounceRecord | null {
  if (event.event !== "failed" || event.severity !== "permanent") return null;
  const flags = (event.flags ?? {}) as Record<string, unknown>;
  if (event.reason !== "bounce" && flags["is-delayed-bounce"] !== true) return null;
  const status = (event["delivery-status"] ?? {}) as { code?: unknown; message?: unknown; description?: unknown };
  return {
    address: event.recipient,
    code: typeof status.code === "number" ? status.code : 550,
    error: String(status.message || status.description || ""),
    createdAt: Math.floor(event.timestamp * 1000),
  };
}

function hasSideEffect(item: Parsed): boolean {
  const event = item.row!.body;
  return event.event === "unsubscribed" || event.event === "complained" || bounceOf(event) !== null;
}

/** One call per kind and domain; returns the domains where a call failed. */
async function applySuppressions(env: Env, parsed: Parsed[]): Promise<Set<string>> {
  const byDomain = new Map<string, DomainWrites>();
  const writesFor = (domain: string) => {
    let writes = byDomain.get(domain);
    if (!writes) byDomain.set(domain, (writes = { unsubscribes: [], bounces: [], complaints: [] }));
    return writes;
  };
  for (const { body, row } of parsed) {
    const event = row!.body;
    const createdAt = Math.floor(event.timestamp * 1000);
    if (body.type === "hit" && body.event === "unsubscribed") {
      // A tag unsubscribe leaves the message's tags; with no tags on the message it leaves the domain.
      const tags = body.scope === "tags" && row!.tags.length > 0 ? row!.tags : [ALL_TAGS];
      writesFor(body.domain).unsubscribes.push({ address: body.recipient, tags, createdAt });
    } else if (event.event === "complained") {
      writesFor(body.domain).complaints.push({ address: event.recipient, createdAt });
    } else {
      const bounce = bounceOf(event);
      if (bounce) writesFor(body.domain).bounces.push(bounce);
    }
  }
  const failed = new Set<string>();
  await Promise.all(
    [...byDomain].map(async ([domain, writes]) => {
      const state = env.DOMAIN_STATE.get(env.DOMAIN_STATE.idFromName(domain));
      try {
        // A refusal takes the failure path: logged, retried, dead-lettered in the end.
        if (writes.unsubscribes.length > 0) valueOrThrow(await state.addUnsubscribes(writes.unsubscribes));
        if (writes.bounces.length > 0) valueOrThrow(await state.addBounces(writes.bounces));
        if (writes.complaints.length > 0) valueOrThrow(await state.addComplaints(writes.complaints));
      } catch (error) {
        console.error(JSON.stringify({ msg: "suppression update failed, retrying", domain, error: String(error) }));
        failed.add(domain);
      }
    }),
  );
  return failed;
}
