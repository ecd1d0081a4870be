// Webhooks, the pure part (mailgun-api.md §6): webhook ids and which event fires which, URL
// rules, the signed payload receivers check, the retry schedule, and the queue messages that
// carry deliveries to one URL: a pack of events (v2, webhook-packs.ts), or one event (v1, still
// consumed: messages queued before packs existed).

import { derivedId } from "./base64url";
import { utf8ByteLength } from "./utf8";
import { MAX_EVENTS_PER_WEBHOOK_PACK } from "./webhook-packs";
import * as z from "./zod";

export const WEBHOOK_IDS = ["accepted", "delivered", "opened", "clicked", "unsubscribed", "complained", "permanent_fail", "temporary_fail"] as const;
export type WebhookId = (typeof WEBHOOK_IDS)[number];

/** Mailgun allows at most 3 URLs per webhook id. */
export const MAX_URLS_PER_WEBHOOK = 3;

/** A webhook id as clients send it; mailgun.js also spells one `unsubscribe`. Null when unknown. */
export function parseWebhookId(text: string): WebhookId | null {
  const id = text.trim().toLowerCase();
  if (id === "unsubscribe") return "unsubscribed";
  return (WEBHOOK_IDS as readonly string[]).includes(id) ? (id as WebhookId) : null;
}

/** Which webhook an event fires: failures split by severity; rejected and stored fire none. */
export function webhookFor(event: { event: string; severity?: unknown }): WebhookId | null {
  if (event.event === "failed") {
    if (event.severity === "permanent") return "permanent_fail";
    if (event.severity === "temporary") return "temporary_fail";
    return null;
  }
  return parseWebhookId(event.event) === event.event ? (event.event as WebhookId) : null;
}

/**
 * A webhook URL's length: it travels in every webhook queue message beside events of up to
 * MAX_EVENT_BYTES, which must still fit one. Unit: bytes of the normalised URL.
 */
export const MAX_WEBHOOK_URL_BYTES = 2048;

/** An absolute http(s) URL with a host, or a sentence saying why not. */
export function checkWebhookUrl(text: string): { url: string } | { error: string } {
  if (text.length > MAX_WEBHOOK_URL_BYTES) return { error: `a webhook url must be at most ${MAX_WEBHOOK_URL_BYTES} bytes` };
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { error: `${JSON.stringify(text)} is not a valid url: it must be an absolute http or https URL` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { error: `${JSON.stringify(text)} is not a valid url: only http and https are allowed` };
  }
  if (!url.hostname) return { error: `${JSON.stringify(text)} is not a valid url: it has no host` };
  if (url.username || url.password) return { error: `${JSON.stringify(text)} is not a valid url: credentials in the URL are not allowed` };
  if (utf8ByteLength(url.href) > MAX_WEBHOOK_URL_BYTES) return { error: `a webhook url must be at most ${MAX_WEBHOOK_URL_BYTES} bytes` };
  return { url: url.href };
}

/** Mailgun's retry schedule after a failed attempt: 5 min, 10 min, 15 min, 1 h, 2 h, 4 h. Seconds. */
export const WEBHOOK_RETRY_SECONDS = [300, 600, 900, 3600, 7200, 14400] as const;
/** How long a receiver has to answer before the attempt counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** Delay before the next attempt after `attempt` failed, or null when it was the last one. */
export function webhookRetryDelay(attempt: number): number | null {
  return WEBHOOK_RETRY_SECONDS[attempt - 1] ?? null;
}

/** `refused`: not posted, because the URL's host is not public (url-safety.ts); final, like a 406. */
export type AttemptResult = { status: number; error?: undefined; refused?: undefined } | { status?: undefined; error: string; refused?: boolean };

/**
 * 2xx: done; 406, or a URL refused before posting: rejected, never retried; anything else (a 3xx
 * too: redirects are never followed) or no answer: retry.
 */
export function classifyAttempt(result: AttemptResult): "delivered" | "rejected" | "retry" {
  if (result.refused) return "rejected";
  if (result.status === undefined) return "retry";
  if (result.status >= 200 && result.status < 300) return "delivered";
  return result.status === 406 ? "rejected" : "retry";
}

/** One event's event-data as it travels: any JSON object with the event's id. */
const eventDataSchema = z.intersection(z.record(z.string(), z.unknown()), z.object({ id: z.string().check(z.minLength(1), z.maxLength(64)) }));

/** One event for one URL: the format before packs (v1), still consumed and never produced. */
export const webhookDeliverySchema = z.object({
  type: z.literal("webhook"),
  v: z.literal(1),
  /** derived from (event id, url): the ledger key that stops a second post after a success */
  id: z.string().check(z.minLength(1)),
  domain: z.string().check(z.minLength(1)),
  webhook: z.enum(WEBHOOK_IDS),
  url: z.url(),
  attempt: z.int().check(z.gte(1)),
  event: eventDataSchema,
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;

/**
 * Up to MAX_EVENTS_PER_WEBHOOK_PACK events for one URL (src/domain/webhook-packs.ts): groups of
 * events of one message and webhook id, each as its shared part and each event's own. Every
 * event's ledger id is derived from (event id, url) by the consumer.
 */
export const webhookPackSchema = z.object({
  type: z.literal("webhook"),
  v: z.literal(2),
  domain: z.string().check(z.minLength(1), z.maxLength(255)),
  url: z.url().check(z.maxLength(MAX_WEBHOOK_URL_BYTES)),
  attempt: z.int().check(z.gte(1)),
  groups: z
    .array(
      z.object({
        webhook: z.enum(WEBHOOK_IDS),
        common: z.record(z.string(), z.unknown()),
        events: z.array(z.record(z.string(), z.unknown())).check(z.minLength(1)),
      }),
    )
    .check(
      z.minLength(1),
      z.refine((groups) => groups.reduce((n, g) => n + g.events.length, 0) <= MAX_EVENTS_PER_WEBHOOK_PACK, {
        message: `at most ${MAX_EVENTS_PER_WEBHOOK_PACK} events in a pack`,
      }),
    ),
});

export const webhookJobSchema = z.discriminatedUnion("v", [webhookDeliverySchema, webhookPackSchema]);
/** What the webhooks queue carries. */
export type WebhookJob = z.input<typeof webhookJobSchema>;

/** A merged event of a pack, checked as event-data; null when it has no usable id. */
export function eventDataOf(event: Record<string, unknown>): (Record<string, unknown> & { id: string }) | null {
  const parsed = eventDataSchema.safeParse(event);
  return parsed.success ? parsed.data : null;
}

export async function webhookDeliveryId(eventId: string, url: string): Promise<string> {
  return derivedId("webhook", eventId, url);
}

export interface WebhookSignature {
  timestamp: string;
  token: string;
  signature: string;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** The signing key, imported once per batch for HMAC-SHA256. */
export function importSigningKey(signingKey: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new TextEncoder().encode(signingKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** Signs as Mailgun does: hex HMAC-SHA256(signing key, timestamp + token), token 50 hex chars. */
export async function signWebhook(key: CryptoKey, nowMs: number): Promise<WebhookSignature> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const token = hex(crypto.getRandomValues(new Uint8Array(25)));
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(timestamp + token));
  return { timestamp, token, signature: hex(new Uint8Array(mac)) };
}

/** A new account signing key, in Mailgun's `key-<hex>` form. */
export function newSigningKey(): string {
  return `key-${hex(crypto.getRandomValues(new Uint8Array(16)))}`;
}
