// Events queue consumer: validates each message, turns hits into Mailgun-shaped events (ready
// events from the send path, delivery and inbound mail are stored as they come; a pack of them is
// unpacked into its events, src/domain/event-packs.ts), writes the batch into its shards (one
// round trip each; insert-or-ignore on the event id, so redelivery changes nothing) while applying
// the suppression side effects to each domain's Durable Object (unsubscribes, hard bounces,
// complaints: one call per kind and domain), then fans each stored event out to the webhooks
// queue (the webhooks looked up meanwhile), then acks, retries with backoff or dead-letters each
// message. Bindings: DB and the event shards, DOMAIN_STATE, EVENTS_DLQ, WEBHOOKS.
import { insertEvents } from "../db/events-store";
import { loadMessageMetadata, messageKey } from "../db/messages";
import { webhooksOfDomains } from "../db/webhooks";
import { derivedId } from "../domain/base64url";
import { mergeEvent } from "../domain/event-packs";
import { queueMessageSchema, readyEventBodySchema, type TrackingHit } from "../domain/queue-messages";
import { valueOrThrow } from "../domain/refusal";
import { buildTrackingEvent, type EventRow, type MailgunEvent, toEventRow } from "../domain/tracking-event";
import { ALL_TAGS, type BounceRecord, type ComplaintRecord, type UnsubscribeRecord } from "../durable-objects/domain-state";
import type { Env } from "../env";
import { sendBack, withinBudget } from "./event-budget";
import { deadLetter, retryDelaySeconds } from "./outcomes";
import { fanOutWebhooks } from "./webhook-fanout";

/** One event of a queue message: a hit to turn into an event, or a ready event. */
export interface Item {
  domain: string;
  hit?: TrackingHit & { id: string };
  event?: MailgunEvent;
  row?: EventRow;
}

export interface Parsed {
  message: Message<unknown>;
  /** One item for a hit or a ready event, one per event for a pack. */
  items: Item[];
}

const describeIssues = (issues: Array<{ path: PropertyKey[]; message: string }>) => issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");

/** The items of a queue message, or why it is malformed. */
async function itemsOf(message: Message<unknown>): Promise<Item[] | string> {
  const result = queueMessageSchema.safeParse(message.body);
  if (!result.success) return describeIssues(result.error.issues);
  const body = result.data;
  // A hit's event id comes from the queue message's id, the same in every redelivery.
  if (body.type === "hit") return [{ domain: body.domain, hit: { ...body, id: body.id ?? (await derivedId("hit", message.id)) } }];
  if (body.type === "event") return [{ domain: body.domain, event: body.event as unknown as MailgunEvent }];
  const items: Item[] = [];
  for (const [i, delta] of body.events.entries()) {
    const event = readyEventBodySchema.safeParse(mergeEvent(body.common, delta));
    if (!event.success) return `events.${i}: ${describeIssues(event.error.issues)}`;
    items.push({ domain: body.domain, event: event.data as unknown as MailgunEvent });
  }
  return items;
}

export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const all: Parsed[] = [];
  for (const message of batch.messages) {
    const items = await itemsOf(message);
    if (typeof items === "string") await deadLetter(env, batch.queue, message, `malformed: ${items}`);
    else all.push({ message, items });
  }
  if (all.length === 0) return;
  const { now: parsed, later } = withinBudget(all);
  await sendBack(env, later);
  const items = parsed.flatMap((p) => p.items);
  // The webhooks of the batch's domains are looked up while the events are built and stored (a
  // failed lookup fails the fan-out, below): the lookup does not depend on them.
  const hooks = webhooksOfDomains(env.DB, [...new Set(items.map((item) => item.domain))]).then(
    (found) => ({ found }),
    (error: unknown) => ({ error }),
  );

  let failedDomains: Set<string>;
  try {
    const hits = items.flatMap((item) => (item.hit ? [item.hit] : []));
    // A hit's token was issued when its message was sent: that day's shard holds the message.
    const metadata =
      hits.length > 0
        ? await loadMessageMetadata(
            env,
            hits.map((hit) => ({ ...hit, sentAt: hit.issuedAt * 1000 })),
          )
        : new Map();
    for (const item of items) {
      item.row = toEventRow(item.domain, item.hit ? buildTrackingEvent(item.hit, metadata.get(messageKey(item.hit))) : item.event!);
    }
    // Suppressions are applied while the events are written: both are idempotent (design rule 2),
    // so if the write fails and the batch is retried, applying them again changes nothing.
    const suppressions = applySuppressions(env, items);
    try {
      await insertEvents(
        env,
        items.map((item) => item.row!),
      );
    } finally {
      failedDomains = await suppressions;
    }
  } catch (error) {
    console.error(JSON.stringify({ msg: "events batch write failed, retrying", error: String(error) }));
    for (const { message } of parsed) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }

  // Webhooks go out once the events are stored. Retrying a message after a failed fan-out may
  // queue a delivery twice; the webhooks ledger makes sure a URL that already answered 2xx is not
  // posted to again.
  let fannedOut = true;
  try {
    const lookup = await hooks;
    if ("error" in lookup) throw lookup.error;
    await fanOutWebhooks(
      env,
      items.map((item) => ({ domain: item.domain, event: item.row!.body })),
      lookup.found,
    );
  } catch (error) {
    fannedOut = false;
    console.error(JSON.stringify({ msg: "webhook fan-out failed, retrying", error: String(error) }));
  }
  for (const { message, items: own } of parsed) {
    if (!fannedOut || own.some((item) => failedDomains.has(item.domain) && hasSideEffect(item))) {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    } else {
      message.ack();
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

function hasSideEffect(item: Item): boolean {
  const event = item.row!.body;
  return event.event === "unsubscribed" || event.event === "complained" || bounceOf(event) !== null;
}

/** One call per kind and domain; returns the domains where a call failed. */
async function applySuppressions(env: Env, items: Item[]): Promise<Set<string>> {
  const byDomain = new Map<string, DomainWrites>();
  const writesFor = (domain: string) => {
    let writes = byDomain.get(domain);
    if (!writes) byDomain.set(domain, (writes = { unsubscribes: [], bounces: [], complaints: [] }));
    return writes;
  };
  for (const { domain, hit, row } of items) {
    const event = row!.body;
    const createdAt = Math.floor(event.timestamp * 1000);
    if (hit?.event === "unsubscribed") {
      // A tag unsubscribe leaves the message's tags; with no tags on the message it leaves the domain.
      const tags = hit.scope === "tags" && row!.tags.length > 0 ? row!.tags : [ALL_TAGS];
      writesFor(domain).unsubscribes.push({ address: hit.recipient, tags, createdAt });
    } else if (event.event === "complained") {
      writesFor(domain).complaints.push({ address: event.recipient, createdAt });
    } else {
      const bounce = bounceOf(event);
      if (bounce) writesFor(domain).bounces.push(bounce);
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
