// The delivery queue's messages: a compose pack of up to 100 recipients of one message (v3, what
// the Messages API sends: the consumer builds their copies from the stored request); a pack of
// built copies (v2: what a compose pack of a scheduled message becomes until its time, and jobs
// queued before compose packs); or one copy for one recipient (v1, still consumed: jobs queued
// before packs). Validated by the delivery consumer. Documented in docs/storage.md, "Queues".

import type { SuppressionReason } from "./suppression";
import * as z from "./zod";

/** Envelope senders (signed VERP addresses) grow with the message id and recipient. Unit: characters. */
const MAX_ENVELOPE_SENDER = 1024;

/** One copy for one recipient: the format before packs. */
export const deliveryJobV1Schema = z.object({
  type: z.literal("delivery"),
  v: z.literal(1),
  domain: z.string().check(z.minLength(1), z.maxLength(255)),
  messageId: z.string().check(z.minLength(1), z.maxLength(255)),
  recipient: z.string().check(z.minLength(3), z.maxLength(320)),
  /** Envelope sender: the signed VERP bounce address for this delivery. */
  from: z.string().check(z.minLength(3), z.maxLength(MAX_ENVELOPE_SENDER)),
  /** The MIME message, when it fits in the queue message; otherwise `mimeKey` names it in R2. */
  mime: z.optional(z.string()),
  mimeKey: z.optional(z.string()),
  /** Unix milliseconds the message was accepted: the 8-hour retry window counts from here. */
  acceptedAt: z.int().check(z.positive()),
  /** Unix milliseconds before which no attempt is made (o:deliverytime). */
  notBefore: z._default(z.int().check(z.nonnegative()), 0),
  /** 1 for the first attempt. */
  attempt: z.int().check(z.gte(1), z.lte(100)),
  facts: z.object({
    headers: z.record(z.string(), z.string()),
    tags: z.array(z.string()),
    userVariables: z.record(z.string(), z.unknown()),
    size: z.int().check(z.nonnegative()),
    /** The stored copy (Mailgun's `storage`); absent in jobs queued before it existed. */
    storage: z.optional(z.object({ key: z.string(), url: z.string() })),
  }),
});
export type DeliveryJobV1 = z.input<typeof deliveryJobV1Schema>;

/** Recipients in one pack: a consumer invocation makes one SMTP session per recipient. */
export const MAX_PACK_COPIES = 100;

/** What the events of a pack's copies share (message.headers, tags, user-variables, storage). */
export const packFactsSchema = z.object({
  headers: z.record(z.string(), z.string()),
  tags: z.array(z.string()),
  userVariables: z.record(z.string(), z.unknown()),
  storage: z.optional(z.object({ key: z.string(), url: z.string() })),
});
export type PackFacts = z.infer<typeof packFactsSchema>;

/** One recipient's copy, without its MIME text. */
export const copyFactsSchema = z.object({
  recipient: z.string().check(z.minLength(3), z.maxLength(320)),
  /** Envelope sender: the signed VERP bounce address for this delivery. */
  from: z.string().check(z.minLength(3), z.maxLength(MAX_ENVELOPE_SENDER)),
  /** Bytes of the MIME text. */
  size: z.int().check(z.nonnegative()),
  /** message.headers of this copy's events that differ from the pack's (to, subject in a batch send). */
  headers: z.optional(z.record(z.string(), z.string())),
  /** This copy's user variables, when they differ from the pack's. */
  userVariables: z.optional(z.record(z.string(), z.unknown())),
});
export type CopyFacts = z.infer<typeof copyFactsSchema>;

export const inlinePackSchema = z.object({
  facts: packFactsSchema,
  copies: z.array(z.extend(copyFactsSchema, { mime: z.string() })).check(z.minLength(1), z.maxLength(MAX_PACK_COPIES)),
});
export type InlinePack = z.infer<typeof inlinePackSchema>;

/**
 * Up to 100 recipients of one message. Their copies travel inline (`pack`) when the whole job fits
 * a queue message, otherwise in one R2 object (`packKey`, src/db/outgoing-packs.ts). `recipients`
 * are the copies this attempt delivers: all of them at first, only the failed ones in a retry.
 */
export const deliveryPackJobSchema = z.object({
  type: z.literal("delivery"),
  v: z.literal(2),
  domain: z.string().check(z.minLength(1), z.maxLength(255)),
  messageId: z.string().check(z.minLength(1), z.maxLength(255)),
  /** Unix milliseconds the message was accepted: the 8-hour retry window counts from here. */
  acceptedAt: z.int().check(z.positive()),
  /** Unix milliseconds before which no attempt is made (o:deliverytime). */
  notBefore: z._default(z.int().check(z.nonnegative()), 0),
  /** 1 for the first attempt; the same for every recipient of the job. */
  attempt: z.int().check(z.gte(1), z.lte(100)),
  recipients: z.array(z.string().check(z.minLength(3), z.maxLength(320))).check(z.minLength(1), z.maxLength(MAX_PACK_COPIES)),
  pack: z.optional(inlinePackSchema),
  packKey: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
});
export type DeliveryPackJob = z.input<typeof deliveryPackJobSchema>;
export type ParsedDeliveryPackJob = z.infer<typeof deliveryPackJobSchema>;

/**
 * Content (text, html and attachments, recipient variables filled in) of one compose pack's
 * recipients: the consumer holds a pack's copies in memory, about 4/3 of this as MIME, while it
 * delivers them. A recipient whose content alone is larger is a pack of its own. Unit: bytes.
 */
export const MAX_PACK_CONTENT_BYTES = 16 * 1024 * 1024;

const SUPPRESSION_REASONS = ["suppress-bounce", "suppress-unsubscribe", "suppress-complaint"] as const satisfies readonly SuppressionReason[];

/** A recipient of a compose pack: its address as the message names it, and why it is never attempted. */
export const composeRecipientSchema = z.object({
  address: z.string().check(z.minLength(3), z.maxLength(320)),
  /** Set when the domain's suppressions stop it (checked at acceptance): it gets Mailgun's 605/606/607 failure. */
  suppressed: z.optional(z.enum(SUPPRESSION_REASONS)),
});
export type ComposeRecipient = z.infer<typeof composeRecipientSchema>;

/**
 * Up to 100 recipients of one accepted message, without their copies: the consumer builds each
 * copy from the stored request (`storage`), and on attempt 1 saves the return paths and writes the
 * accepted events (and the suppressed and test-mode outcomes) before it delivers. A retry carries
 * only the recipients that failed, with `attempt + 1`, and builds their copies again.
 */
export const composePackJobSchema = z.object({
  type: z.literal("delivery"),
  v: z.literal(3),
  domain: z.string().check(z.minLength(1), z.maxLength(255)),
  messageId: z.string().check(z.minLength(1), z.maxLength(255)),
  /** The pack's place in its message (0, 1, ...): names its R2 object if it waits for o:deliverytime. */
  part: z.int().check(z.nonnegative()),
  /** The request as submitted, in R2 (src/db/stored-messages.ts), and its URL for the events. */
  storage: z.object({ key: z.string().check(z.minLength(1), z.maxLength(64)), url: z.string().check(z.minLength(1), z.maxLength(2048)) }),
  /** Unix milliseconds the message was accepted: the events' time, the copies' Date and tokens' issue time, and the start of the 8-hour retry window. */
  acceptedAt: z.int().check(z.positive()),
  /** Unix milliseconds before which no attempt is made (o:deliverytime). */
  notBefore: z._default(z.int().check(z.nonnegative()), 0),
  attempt: z.int().check(z.gte(1), z.lte(100)),
  /** The message's tracking, resolved from the domain's settings and its o: options at acceptance. */
  tracking: z.object({ opens: z.boolean(), pixelTop: z.boolean(), clicks: z.enum(["no", "yes", "htmlonly"]), unsubscribe: z.boolean() }),
  recipients: z.array(composeRecipientSchema).check(z.minLength(1), z.maxLength(MAX_PACK_COPIES)),
});
export type ComposePackJob = z.input<typeof composePackJobSchema>;
export type ParsedComposePackJob = z.infer<typeof composePackJobSchema>;

export const deliveryJobSchema = z.discriminatedUnion("v", [deliveryJobV1Schema, deliveryPackJobSchema, composePackJobSchema]);
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
