// The delivery queue's message: one MIME message for one recipient, and what its events need.
// Validated by the delivery consumer. Documented in docs/storage.md, "Queue messages".
import { z } from "zod";

export const deliveryJobSchema = z.object({
  type: z.literal("delivery"),
  v: z.literal(1),
  domain: z.string().min(1).max(255),
  messageId: z.string().min(1).max(255),
  recipient: z.string().min(3).max(320),
  /** Envelope sender: the signed VERP bounce address for this delivery. */
  from: z.string().min(3).max(512),
  /** The MIME message, when it fits in the queue message; otherwise `mimeKey` names it in R2. */
  mime: z.string().optional(),
  mimeKey: z.string().optional(),
  /** Unix milliseconds the message was accepted: the 8-hour retry window counts from here. */
  acceptedAt: z.number().int().positive(),
  /** Unix milliseconds before which no attempt is made (o:deliverytime). */
  notBefore: z.number().int().nonnegative().default(0),
  /** 1 for the first attempt. */
  attempt: z.number().int().min(1).max(100),
  facts: z.object({
    headers: z.record(z.string(), z.string()),
    tags: z.array(z.string()),
    userVariables: z.record(z.string(), z.unknown()),
    size: z.number().int().nonnegative(),
    /** The stored copy (Mailgun's `storage`); absent in jobs queued before it existed. */
    storage: z.object({ key: z.string(), url: z.string() }).optional(),
  }),
});
export type DeliveryJob = z.input<typeof deliveryJobSchema>;
export type ParsedDeliveryJob = z.infer<typeof deliveryJobSchema>;

/** Mailgun's retry schedule after a temporary failure, in seconds: 10 min, 15 min, 30 min, 1 h, 2 h, 4 h. */
export const RETRY_SCHEDULE_SECONDS = [600, 900, 1800, 3600, 7200, 14400] as const;
/** After this long since acceptance a message fails permanently with reason `old`. Unit: ms. */
export const RETRY_WINDOW_MS = 8 * 3600 * 1000;
/** Cloudflare Queues delay a message by at most 12 hours; longer waits hop. Unit: seconds. */
export const MAX_QUEUE_DELAY_SECONDS = 43_200;

export type NextStep = { kind: "retry"; delaySeconds: number } | { kind: "expired" };

/** After a temporary failure of attempt `attempt`: retry on the schedule, or give up as `old`. */
export function nextStepAfterTemporaryFailure(attempt: number, acceptedAt: number, now: number): NextStep {
  const delay = RETRY_SCHEDULE_SECONDS[attempt - 1];
  if (delay === undefined || now + delay * 1000 - acceptedAt > RETRY_WINDOW_MS) return { kind: "expired" };
  return { kind: "retry", delaySeconds: delay };
}
