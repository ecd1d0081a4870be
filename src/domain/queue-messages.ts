// Shapes of the messages on the events queue, validated at the consumer (a trust boundary:
// anything can end up on a queue). Documented in docs/storage.md, "Queue messages".

import { MAX_EVENTS_PER_PACK } from "./event-packs";
import * as z from "./zod";

/** A raw tracking hit as the edge saw it; the consumer turns it into a Mailgun-shaped event. */
export const trackingHitSchema = z.object({
  type: z.literal("hit"),
  v: z.literal(1),
  /**
   * Event id. The edge leaves it out: the consumer derives it from the queue message's id, which
   * stays the same when the queue redelivers, so a redelivered hit still writes nothing new.
   */
  id: z.optional(z.string().check(z.minLength(16), z.maxLength(64))),
  event: z.enum(["opened", "clicked", "unsubscribed"]),
  /** Microseconds since the epoch. */
  ts: z.int().check(z.positive()),
  domain: z.string().check(z.minLength(1), z.maxLength(255)),
  messageId: z.string().check(z.minLength(1), z.maxLength(255)),
  recipient: z.string().check(z.minLength(1), z.maxLength(255)),
  /** clicked: the destination; unsubscribed: "" (whole domain) or "tags" (the message's tags). */
  url: z._default(z.string().check(z.maxLength(8192)), ""),
  scope: z.optional(z.enum(["domain", "tags"])),
  /** Unix seconds when the link was made (from the token). */
  issuedAt: z.int().check(z.nonnegative()),
  method: z.string().check(z.maxLength(16)),
  ip: z.string().check(z.maxLength(64)),
  userAgent: z.string().check(z.maxLength(2048)),
  cf: z._default(
    z.object({
      country: z.optional(z.string().check(z.maxLength(64))),
      region: z.optional(z.string().check(z.maxLength(128))),
      regionCode: z.optional(z.string().check(z.maxLength(16))),
      city: z.optional(z.string().check(z.maxLength(128))),
      asn: z.optional(z.int()),
      asOrganization: z.optional(z.string().check(z.maxLength(256))),
    }),
    {},
  ),
});

export type TrackingHit = z.infer<typeof trackingHitSchema>;
export type TrackingHitInput = z.input<typeof trackingHitSchema>;

/**
 * A finished Mailgun-shaped event from the send path, delivery or inbound mail (accepted,
 * delivered, failed, complained). Its id and timestamp are fixed by the producer; the consumer
 * stores it as is and applies its side effects to the domain's Durable Object (a permanent
 * bounce joins the bounce list, a complaint the complaint list).
 */
export const readyEventBodySchema = z.looseObject({
  id: z.string().check(z.minLength(16), z.maxLength(64)),
  event: z.enum(["accepted", "delivered", "failed", "complained", "rejected"]),
  timestamp: z.number().check(z.positive()),
  recipient: z.string().check(z.minLength(1), z.maxLength(320)),
  tags: z.array(z.string()),
  "user-variables": z.record(z.string(), z.unknown()),
  message: z.looseObject({ headers: z.record(z.string(), z.string()) }),
});

export const readyEventSchema = z.object({
  type: z.literal("event"),
  v: z.literal(1),
  domain: z.string().check(z.minLength(1), z.maxLength(255)),
  event: readyEventBodySchema,
});
export type ReadyEvent = z.infer<typeof readyEventSchema>;

/**
 * Ready events of one message, packed (src/domain/event-packs.ts): what they share once, then
 * each event's own part. Every event carries its id, fixed by the producer, so a redelivered
 * pack stores nothing new. The consumer checks each merged event with readyEventBodySchema.
 */
export const eventPackSchema = z.object({
  type: z.literal("events"),
  v: z.literal(1),
  domain: z.string().check(z.minLength(1), z.maxLength(255)),
  common: z.record(z.string(), z.unknown()),
  events: z.array(z.record(z.string(), z.unknown())).check(z.minLength(1), z.maxLength(MAX_EVENTS_PER_PACK)),
});

/**
 * A message on tidings-rollups: roll up this event shard (its binding name) past its watermark in
 * this stats database (its binding name; absent: every one the shard feeds).
 */
export const rollupJobSchema = z.object({
  type: z.literal("rollup"),
  shard: z.string().check(z.maxLength(64)),
  stats: z.optional(z.string().check(z.maxLength(64))),
});
/**
 * A message on tidings-rollups: empty this event shard (its binding name) of the events past every
 * retention, carrying on where a cron run's share ran out (src/cron/retention.ts).
 */
export const emptyJobSchema = z.object({
  type: z.literal("empty"),
  shard: z.string().check(z.maxLength(64)),
});
/** Either job of tidings-rollups. */
export const rollupsQueueJobSchema = z.discriminatedUnion("type", [rollupJobSchema, emptyJobSchema]);
export type RollupJob = z.infer<typeof rollupsQueueJobSchema>;

export const queueMessageSchema = z.discriminatedUnion("type", [trackingHitSchema, readyEventSchema, eventPackSchema]);
export type QueueMessage = z.input<typeof queueMessageSchema>;

/**
 * Cloudflare Queues take 128 KB per message (1 KB being 1,000 bytes), about 100 bytes of it
 * metadata; every producer packs its messages to stay under this. Unit: bytes of the JSON body.
 */
export const MAX_QUEUE_BODY_BYTES = 120_000;
/** One sendBatch takes at most 100 messages and 256 KB together. Unit: messages, bytes of JSON. */
export const MAX_SEND_BATCH_MESSAGES = 100;
export const MAX_SEND_BATCH_BYTES = 200_000;

/**
 * The largest event the send path may produce. Each event must fit a webhook pack alone beside
 * its URL (at most 2,048 bytes), and the message's later events add to what the accepted event
 * carries (delivery-status, client-info, a click's URL of up to 8 KB), so it stays 20 KB under
 * MAX_QUEUE_BODY_BYTES; a D1 row holds 2 MB. Unit: bytes of JSON.
 */
export const MAX_EVENT_BYTES = 100_000;
