// Shapes of the messages on the events queue, validated at the consumer (a trust boundary:
// anything can end up on a queue). Documented in docs/storage.md, "Queue messages".
import { z } from "zod";

/** A raw tracking hit as the edge saw it; the consumer turns it into a Mailgun-shaped event. */
export const trackingHitSchema = z.object({
  type: z.literal("hit"),
  v: z.literal(1),
  /**
   * Event id. The edge leaves it out: the consumer derives it from the queue message's id, which
   * stays the same when the queue redelivers, so a redelivered hit still writes nothing new.
   */
  id: z.string().min(16).max(64).optional(),
  event: z.enum(["opened", "clicked", "unsubscribed"]),
  /** Microseconds since the epoch. */
  ts: z.number().int().positive(),
  domain: z.string().min(1).max(255),
  messageId: z.string().min(1).max(255),
  recipient: z.string().min(1).max(255),
  /** clicked: the destination; unsubscribed: "" (whole domain) or "tags" (the message's tags). */
  url: z.string().max(8192).default(""),
  scope: z.enum(["domain", "tags"]).optional(),
  /** Unix seconds when the link was made (from the token). */
  issuedAt: z.number().int().nonnegative(),
  method: z.string().max(16),
  ip: z.string().max(64),
  userAgent: z.string().max(2048),
  cf: z
    .object({
      country: z.string().max(64).optional(),
      region: z.string().max(128).optional(),
      regionCode: z.string().max(16).optional(),
      city: z.string().max(128).optional(),
      asn: z.number().int().optional(),
      asOrganization: z.string().max(256).optional(),
    })
    .default({}),
});

export type TrackingHit = z.infer<typeof trackingHitSchema>;
export type TrackingHitInput = z.input<typeof trackingHitSchema>;

/**
 * A finished Mailgun-shaped event from the send path, delivery or inbound mail (accepted,
 * delivered, failed, complained). Its id and timestamp are fixed by the producer; the consumer
 * stores it as is and applies its side effects to the domain's Durable Object (a permanent
 * bounce joins the bounce list, a complaint the complaint list).
 */
export const readyEventSchema = z.object({
  type: z.literal("event"),
  v: z.literal(1),
  domain: z.string().min(1).max(255),
  event: z
    .object({
      id: z.string().min(16).max(64),
      event: z.enum(["accepted", "delivered", "failed", "complained", "rejected"]),
      timestamp: z.number().positive(),
      recipient: z.string().min(1).max(320),
      tags: z.array(z.string()),
      "user-variables": z.record(z.string(), z.unknown()),
      message: z.object({ headers: z.record(z.string(), z.string()) }).loose(),
    })
    .loose(),
});
export type ReadyEvent = z.infer<typeof readyEventSchema>;

export const queueMessageSchema = z.discriminatedUnion("type", [trackingHitSchema, readyEventSchema]);
export type QueueMessage = z.input<typeof queueMessageSchema>;
