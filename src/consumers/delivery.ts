// Delivery queue consumer: hands each message to the configured SMTP relay (cloudflare:sockets),
// then records the outcome as Mailgun does: `delivered`; a temporary `failed` with retry-seconds
// and a new, delayed delivery message on Mailgun's schedule; a permanent `failed` (reason
// `bounce` for a 5xx, which the events consumer adds to the bounce list, or `old` once the
// 8-hour window is over). Bindings: DELIVERY, EVENTS, EVENTS_DLQ, MESSAGES.
import { derivedId } from "../domain/base64url";
import {
  deliveryJobSchema,
  MAX_QUEUE_DELAY_SECONDS,
  nextStepAfterTemporaryFailure,
  type ParsedDeliveryJob,
} from "../domain/delivery-job";
import type { QueueMessage } from "../domain/queue-messages";
import { deliveredEvent, failedEvent, type DeliveryStatus, type MessageFacts } from "../domain/send-events";
import type { MailgunEvent } from "../domain/tracking-event";
import type { Env } from "../env";
import { deadLetter, retryDelaySeconds } from "./outcomes";
import { deliverOverSmtp, type SmtpOutcome, type SmtpRelay } from "./smtp-client";

export function relayFromSettings(env: Env, heloName: string): SmtpRelay | null {
  if (!env.SMTP_RELAY_HOST) return null;
  const security = (env.SMTP_RELAY_SECURITY || "starttls").toLowerCase();
  return {
    host: env.SMTP_RELAY_HOST,
    port: Number(env.SMTP_RELAY_PORT || (security === "tls" ? 465 : 587)),
    security: security === "tls" || security === "none" ? security : "starttls",
    user: env.SMTP_RELAY_USER || undefined,
    password: env.SMTP_RELAY_PASSWORD || undefined,
    heloName,
  };
}

/** The same delivery attempt always yields the same event id, so a redelivered job writes nothing new. */
function eventId(job: ParsedDeliveryJob, kind: string): Promise<string> {
  return derivedId(job.domain, job.messageId, job.recipient, String(job.attempt), kind);
}

type Outcome =
  | { kind: "delivered"; status: DeliveryStatus }
  | { kind: "bounced"; status: DeliveryStatus }
  | { kind: "retry"; status: DeliveryStatus; delaySeconds: number }
  | { kind: "expired"; status: DeliveryStatus };

/** Pure: what an SMTP outcome means for this attempt. */
export function classifyOutcome(job: ParsedDeliveryJob, smtp: SmtpOutcome, relayHost: string, now: number): Outcome {
  const status: DeliveryStatus = {
    code: smtp.code,
    message: smtp.message,
    attemptNo: job.attempt,
    mxHost: relayHost,
    tls: smtp.tls,
    sessionSeconds: smtp.sessionSeconds,
    enhancedCode: smtp.enhancedCode,
  };
  if (smtp.ok) return { kind: "delivered", status };
  if (!smtp.connectionFailed && smtp.code >= 500) return { kind: "bounced", status };
  const next = nextStepAfterTemporaryFailure(job.attempt, job.acceptedAt, now);
  if (next.kind === "expired") return { kind: "expired", status: { ...status, description: "Too old" } };
  return { kind: "retry", status: { ...status, retrySeconds: next.delaySeconds }, delaySeconds: next.delaySeconds };
}

async function deliverOne(job: ParsedDeliveryJob, env: Env): Promise<void> {
  const now = Date.now();
  if (job.notBefore > now + 1000) {
    // Scheduled further ahead than one queue delay allows: hop until it is time.
    await env.DELIVERY.send(job, { contentType: "json", delaySeconds: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil((job.notBefore - now) / 1000)) });
    return;
  }
  const facts: MessageFacts = { domain: job.domain, messageId: job.messageId, ...job.facts };
  const mime = job.mime ?? (job.mimeKey ? await (await env.MESSAGES.get(job.mimeKey))?.text() : undefined);
  let outcome: Outcome;
  const relay = relayFromSettings(env, job.domain);
  if (mime === undefined) {
    console.error(JSON.stringify({ msg: "message body missing, failing delivery", key: job.mimeKey, messageId: job.messageId }));
    outcome = { kind: "expired", status: { code: 0, message: "Message body is no longer stored", description: "", attemptNo: job.attempt } };
  } else if (!relay) {
    const smtp: SmtpOutcome = { ok: false, code: 0, enhancedCode: "", message: "No SMTP relay is configured (SMTP_RELAY_HOST)", stage: "connect", tls: false, sessionSeconds: 0, connectionFailed: true };
    outcome = classifyOutcome(job, smtp, "", now);
  } else {
    outcome = classifyOutcome(job, await deliverOverSmtp(relay, { from: job.from, to: job.recipient }, mime), relay.host, now);
  }

  let event: MailgunEvent;
  const at = { id: await eventId(job, outcome.kind), ms: Date.now() };
  if (outcome.kind === "delivered") event = deliveredEvent(facts, job.recipient, outcome.status, at);
  else if (outcome.kind === "bounced") event = failedEvent(facts, job.recipient, { severity: "permanent", reason: "bounce", status: outcome.status }, at);
  else if (outcome.kind === "expired") event = failedEvent(facts, job.recipient, { severity: "permanent", reason: "old", status: outcome.status }, at);
  else event = failedEvent(facts, job.recipient, { severity: "temporary", reason: "generic", status: outcome.status }, at);

  if (outcome.kind === "retry") {
    await env.DELIVERY.send({ ...job, attempt: job.attempt + 1 }, { contentType: "json", delaySeconds: outcome.delaySeconds });
  }
  await env.EVENTS.send({ type: "event", v: 1, domain: job.domain, event } as QueueMessage, { contentType: "json" });
  if (outcome.kind !== "retry" && job.mimeKey) await env.MESSAGES.delete(job.mimeKey);
}

export async function consumeDeliveries(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = deliveryJobSchema.safeParse(message.body);
      if (!parsed.success) {
        await deadLetter(env, batch.queue, message, `malformed: ${parsed.error.issues[0]?.message ?? "invalid"}`);
        return;
      }
      try {
        await deliverOne(parsed.data, env);
        message.ack();
      } catch (error) {
        // Recording the outcome failed (queue or R2 unavailable): try the whole attempt again.
        console.error(JSON.stringify({ msg: "delivery bookkeeping failed, retrying", messageId: parsed.data.messageId, error: String(error) }));
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}
