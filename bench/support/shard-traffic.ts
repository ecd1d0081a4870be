// Production-shaped traffic on the events queue for bench/shards.bench.ts: what the send path,
// delivery, inbound mail and the tracking edge put on the queue for one day of mail of some
// domains, in the order it arrives (by time). Per message (one recipient in a million, a unique
// Message-ID, ~1 KB of user variables, three tags): an accepted event, then delivered or a failure
// (5% permanent bounces, 2% temporary), complaints (0.1%), opens (45% of delivered, 1-3 each, real
// user agents), clicks (12%) and unsubscribes (5% of opened). Send-path events travel as packs
// (src/domain/event-packs.ts, as compose and delivery queue them), complaints as single ready
// events (inbound), opens/clicks/unsubscribes as raw hits without an id (the edge's), whose
// events the consumer builds from the message metadata saved at send time.
//
// For each queue message the generator also gives the row the consumer will store, built by the
// same Worker code (toEventRow, buildTrackingEvent), under a second id of the same length: the
// raw-insert baseline writes exactly those rows. Pure and seeded.
import type { MessageKey } from "../../src/db/messages";
import { derivedId } from "../../src/domain/base64url";
import { packEvents } from "../../src/domain/event-packs";
import { MAX_QUEUE_BODY_BYTES, type QueueMessage, type TrackingHitInput } from "../../src/domain/queue-messages";
import { acceptedEvent, complainedEvent, deliveredEvent, failedEvent } from "../../src/domain/send-events";
import { buildTrackingEvent, type EventRow, type MailgunEvent, type MessageMetadata, toEventRow } from "../../src/domain/tracking-event";
import { prng } from "../../test/support/prng";
import { productionMessage, recipientAddress, SEED_RECIPIENT, USER_AGENTS } from "./production-events";

const COUNTRIES = ["US", "GB", "DE", "FR", "NL", "BR", "IN", "JP"];
const DAY_MS = 86_400_000;
/** Messages are sent in the day's first 16 hours and opened within 8 hours: every event stays on the day. */
const SEND_WINDOW_MS = 16 * 3_600_000;
const OPEN_WINDOW_MS = 8 * 3_600_000 - 60_000;

export interface TrafficShape {
  /** The domains, biggest first; domain i gets about 1 / (rank_i)^zipf of the messages. */
  domains: Array<{ name: string; rank: number }>;
  zipf: number;
  /** The day (days since the epoch, UTC) every event falls on. */
  day: number;
  /** Queue messages wanted (about 2.2 per mail message). */
  events: number;
  /** Distinct recipients to draw from. */
  recipients: number;
  /** First message number: runs with different ranges never share a Message-ID. */
  firstMessage: number;
  seed: number;
}

/** One queue message and the row its event becomes (under the baseline's id). */
export interface TrafficItem {
  id: string;
  body: QueueMessage;
  /** The consumer's event id for this message (hits: derived from the queue message id). */
  eventId: string;
  /** The same event as the consumer stores it, with another id of the same length. */
  raw: EventRow;
}

export interface Traffic {
  /** In arrival order; each builds its queue message and row when called (memory stays flat). */
  items: Array<() => Promise<TrafficItem>>;
  /** What the send path saved for each message (message_facts), for the hits' metadata. */
  metadata: Array<{ key: MessageKey; metadata: MessageMetadata }>;
}

/** Ids of the queue messages and events: 22 characters, like randomId(); `r` variants for the baseline. */
const idOf = (n: number, kind: string) => `${kind}${n.toString(36).padStart(20, "0")}`;

interface Pending {
  ts: number;
  make: () => Promise<TrafficItem>;
}

/** The queue traffic of one day for `shape.domains`, sorted by time. */
export function dayTraffic(shape: TrafficShape): Traffic {
  const rng = prng(shape.seed);
  const weights = shape.domains.map((d) => 1 / d.rank ** shape.zipf);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  weights.reduce((sum, w) => (cumulative.push((sum + w) / total), sum + w), 0);
  const pickDomain = () => {
    const x = rng.next();
    const i = cumulative.findIndex((c) => c > x);
    return shape.domains[i < 0 ? shape.domains.length - 1 : i]!;
  };
  const dayStart = shape.day * DAY_MS;
  const pending: Pending[] = [];
  const metadata: Traffic["metadata"] = [];
  let counter = 0;
  const nextNo = () => shape.firstMessage * 8 + counter++;

  for (let m = 0; pending.length < shape.events; m++) {
    const messageNo = shape.firstMessage + m;
    const { name: domain, rank } = pickDomain();
    const sentMs = dayStart + Math.floor(rng.next() * SEND_WINDOW_MS);
    const recipient = m % 50 === 7 ? SEED_RECIPIENT : recipientAddress((messageNo * 7919 + rank * 104729) % shape.recipients);
    const facts = productionMessage({ domain, rank, m, messageNo, sentMs, recipient }, rng);
    const { tags } = facts;
    const saved: MessageMetadata = { tags, userVariables: facts.userVariables, headers: facts.headers, preparedAt: sentMs };
    metadata.push({ key: { domain, messageId: facts.messageId, recipient }, metadata: saved });

    // A ready event: packed as compose and delivery pack them, or single (inbound complaints).
    const ready = (ms: number, build: (id: string) => MailgunEvent, packed: boolean) => {
      const n = nextNo();
      pending.push({
        ts: ms,
        make: async () => {
          const event = build(idOf(n, "e"));
          const body: QueueMessage = packed ? packEvents(domain, [event], MAX_QUEUE_BODY_BYTES)[0]! : { type: "event", v: 1, domain, event: event as never };
          return { id: idOf(n, "q"), body, eventId: event.id, raw: toEventRow(domain, build(idOf(n, "r"))) };
        },
      });
    };
    const at = (id: string, ms: number) => ({ id, ms });
    ready(
      sentMs,
      (id) => acceptedEvent(facts, recipient, { recipients: [recipient], method: "http", sender: `bounce@${domain}`, attachments: [] }, at(id, sentMs)),
      true,
    );
    const outcome = rng.next();
    const status = { code: 250, message: "OK", attemptNo: 1, mxHost: "smtp.relay.example", tls: true, sessionSeconds: 0.4 };
    if (outcome < 0.07) {
      const permanent = outcome < 0.05;
      const failure = permanent
        ? {
            severity: "permanent" as const,
            reason: "bounce" as const,
            status: { ...status, code: 550, message: "5.1.1 The email account that you tried to reach does not exist" },
          }
        : { severity: "temporary" as const, reason: "generic" as const, status: { ...status, code: 421, message: "4.7.0 Try again later", retrySeconds: 600 } };
      ready(sentMs + 2000, (id) => failedEvent(facts, recipient, failure, at(id, sentMs + 2000)), true);
      continue;
    }
    ready(sentMs + 1500, (id) => deliveredEvent(facts, recipient, status, at(id, sentMs + 1500)), true);
    if (rng.chance(0.001)) ready(sentMs + 3_600_000, (id) => complainedEvent(facts, recipient, at(id, sentMs + 3_600_000)), false);
    if (!rng.chance(0.45)) continue;
    const opens = 1 + Math.floor(rng.next() * 3);
    for (let o = 0; o < opens; o++) {
      const ua = USER_AGENTS[Math.floor(rng.next() * USER_AGENTS.length)]!;
      const hitMs = sentMs + 60_000 + Math.floor(rng.next() * OPEN_WINDOW_MS);
      const hit = (event: "opened" | "clicked" | "unsubscribed", url = "") => {
        const n = nextNo();
        const input: TrackingHitInput = {
          type: "hit",
          v: 1,
          event,
          url,
          ts: hitMs * 1000 + (n % 1000),
          domain,
          messageId: facts.messageId,
          recipient,
          issuedAt: Math.floor(sentMs / 1000),
          method: "GET",
          ip: `198.51.100.${messageNo % 250}`,
          userAgent: ua,
          cf: { country: COUNTRIES[messageNo % COUNTRIES.length], city: "Somewhere", asn: 64500 + (messageNo % 20) },
        };
        pending.push({
          ts: hitMs,
          make: async () => {
            const queueId = idOf(n, "q");
            const eventId = await derivedId("hit", queueId);
            const rawId = await derivedId("hit", idOf(n, "r"));
            const row = toEventRow(domain, buildTrackingEvent({ ...input, url, cf: input.cf ?? {}, id: rawId }, saved));
            return { id: queueId, body: input, eventId, raw: row };
          },
        });
      };
      hit("opened");
      const page = `https://shop.customer${rank}.example.com/collections/autumn/products/wool-coat-${messageNo % 500}`;
      if (o === 0 && rng.chance(0.12)) hit("clicked", `${page}?utm_source=newsletter&utm_medium=email&utm_campaign=autumn-${messageNo % 200}`);
      if (o === 0 && rng.chance(0.05)) hit("unsubscribed");
    }
  }
  pending.sort((a, b) => a.ts - b.ts);
  return { items: pending.slice(0, shape.events).map((p) => p.make), metadata };
}
