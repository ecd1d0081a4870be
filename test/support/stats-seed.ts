// Events for the stats tests, built by the same builders the pipeline uses and stored through the
// events store, so the rollup reads exactly what production writes.
import { env } from "cloudflare:test";
import { insertEvents } from "../../src/db/events-store";
import { randomId } from "../../src/domain/base64url";
import { acceptedEvent, complainedEvent, deliveredEvent, type FailureReason, failedEvent, type MessageFacts } from "../../src/domain/send-events";
import { buildTrackingEvent, type MailgunEvent, toEventRow } from "../../src/domain/tracking-event";
import type { Env } from "../../src/env";

export const testEnv = env as unknown as Env;

/** A person on a Mac reading long after the message was sent (classified human). */
export const HUMAN_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
/** Apple Mail Privacy Protection's proxy (classified bot "apple"). */
export const APPLE_PROXY_UA = "Mozilla/5.0";

export interface EventSpec {
  event: "accepted" | "delivered" | "failed" | "opened" | "clicked" | "unsubscribed" | "complained";
  /** Unix milliseconds. */
  ms: number;
  recipient?: string;
  messageId?: string;
  tags?: string[];
  userAgent?: string;
  country?: string;
  severity?: "temporary" | "permanent";
  reason?: FailureReason;
  delayedBounce?: boolean;
}

export function buildEvent(domain: string, spec: EventSpec): MailgunEvent {
  const recipient = spec.recipient ?? "bob@example.org";
  const messageId = spec.messageId ?? "m1@example.com";
  const facts: MessageFacts = { domain, messageId, headers: { to: recipient, subject: "Hi" }, tags: spec.tags ?? [], userVariables: {} };
  const at = { id: randomId(), ms: spec.ms };
  const status = { code: 250, message: "OK", attemptNo: 1 };
  switch (spec.event) {
    case "accepted":
      return acceptedEvent(facts, recipient, { recipients: [recipient], method: "http", sender: `me@${domain}`, attachments: [] }, at);
    case "delivered":
      return deliveredEvent(facts, recipient, status, at);
    case "failed":
      return failedEvent(
        facts,
        recipient,
        { severity: spec.severity ?? "permanent", reason: spec.reason ?? "bounce", status: { ...status, code: 550 }, delayedBounce: spec.delayedBounce },
        at,
      );
    case "complained":
      return complainedEvent(facts, recipient, at);
    default:
      return buildTrackingEvent(
        {
          type: "hit",
          v: 1,
          id: at.id,
          event: spec.event,
          ts: spec.ms * 1000,
          domain,
          messageId,
          recipient,
          url: spec.event === "clicked" ? "https://example.org/" : "",
          issuedAt: Math.floor(spec.ms / 1000) - 3600,
          method: "GET",
          ip: "192.0.2.1",
          userAgent: spec.userAgent ?? HUMAN_UA,
          cf: { country: spec.country ?? "NL" },
        },
        { tags: spec.tags ?? [], userVariables: {}, headers: { to: recipient }, preparedAt: spec.ms - 3_600_000 },
      );
  }
}

/** Stores the events as the consumer would at `now` (events older than the longest retention then are not stored). */
export async function seedEvents(domain: string, specs: EventSpec[], now = Date.now()): Promise<void> {
  await insertEvents(
    testEnv,
    specs.map((spec) => toEventRow(domain, buildEvent(domain, spec))),
    now,
  );
}
