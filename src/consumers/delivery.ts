// Delivery queue consumer: hands each recipient's copy to the configured SMTP relay
// (cloudflare:sockets), then records each outcome as Mailgun does: `delivered`; a temporary
// `failed` with retry-seconds, and the recipient queued again, delayed, on Mailgun's schedule; a
// permanent `failed` (reason `bounce` for a 5xx, which the events consumer adds to the bounce
// list, or `old` once the 8-hour window is over). A job is a compose pack of up to 100 recipients
// of one message, whose copies are built here first (src/consumers/compose.ts), or a pack of built
// copies (a scheduled message's, or queued before compose packs), or, queued before packs, one
// recipient: outcomes and retries stay per recipient, a retry carrying only the recipients that
// failed, and the pack's events go out packed.
// Bindings: DELIVERY, EVENTS, EVENTS_DLQ, MESSAGES, DB, TRACKING_SECRET.
import type { PackCopy } from "../db/outgoing-packs";
import { sendInBatches } from "../db/queue-batches";
import { queueFor } from "../db/queue-partitions";
import { derivedId } from "../domain/base64url";
import { deliveryJobSchema, MAX_QUEUE_DELAY_SECONDS, nextStepAfterTemporaryFailure, type ParsedDeliveryJob } from "../domain/delivery-job";
import { packEvents } from "../domain/event-packs";
import { MAX_QUEUE_BODY_BYTES } from "../domain/queue-messages";
import { type DeliveryStatus, deliveredEvent, failedEvent, type MessageFacts } from "../domain/send-events";
import type { MailgunEvent } from "../domain/tracking-event";
import type { Env } from "../env";
import { ComposeSources, composeAttempt } from "./compose";
import { type Attempt, attemptOf } from "./delivery-attempt";
import { deadLetter, retryDelaySeconds } from "./outcomes";
import { type SmtpOutcome, SmtpPool, type SmtpRelay } from "./smtp-client";

/**
 * SMTP sessions one invocation holds open at once, each carrying message after message (RSET in
 * between): Workers allow 6 open connections, and queue and R2 calls need one.
 */
const SMTP_SESSIONS_AT_ONCE = 5;
/** Characters of the relay's reply kept in delivery-status.message: a reply may run to 64 KB, an event must stay small. */
const MAX_STATUS_MESSAGE_CHARS = 2000;

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

type Outcome =
  | { kind: "delivered"; status: DeliveryStatus }
  | { kind: "bounced"; status: DeliveryStatus }
  | { kind: "retry"; status: DeliveryStatus; delaySeconds: number }
  | { kind: "expired"; status: DeliveryStatus };

/** Pure: what an SMTP outcome means for this attempt. */
export function classifyOutcome(job: { attempt: number; acceptedAt: number }, smtp: SmtpOutcome, relayHost: string, now: number): Outcome {
  const status: DeliveryStatus = {
    code: smtp.code,
    message: smtp.message.slice(0, MAX_STATUS_MESSAGE_CHARS),
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

async function outcomeFor(attempt: Attempt, copy: PackCopy | null, env: Env, smtp: SmtpPool): Promise<Outcome> {
  if (!copy) {
    return { kind: "expired", status: { code: 0, message: "Message body is no longer stored", description: "", attemptNo: attempt.attempt } };
  }
  const relay = relayFromSettings(env, attempt.domain);
  if (!relay) {
    const smtp: SmtpOutcome = {
      ok: false,
      code: 0,
      enhancedCode: "",
      message: "No SMTP relay is configured (SMTP_RELAY_HOST)",
      stage: "connect",
      tls: false,
      sessionSeconds: 0,
      connectionFailed: true,
    };
    return classifyOutcome(attempt, smtp, "", Date.now());
  }
  const outcome = await smtp.deliver(relay, { from: copy.from, to: copy.recipient }, copy.mime);
  return classifyOutcome(attempt, outcome, relay.host, Date.now());
}

/** The event of one recipient's outcome. The same attempt always yields the same id, so a redelivered job writes nothing new. */
async function eventOf(attempt: Attempt, recipient: string, copy: PackCopy | null, outcome: Outcome): Promise<MailgunEvent> {
  const facts: MessageFacts = {
    domain: attempt.domain,
    messageId: attempt.messageId,
    headers: { ...attempt.facts.headers, ...copy?.headers },
    tags: attempt.facts.tags,
    userVariables: copy?.userVariables ?? attempt.facts.userVariables,
    size: copy?.size,
    storage: attempt.facts.storage,
  };
  const at = { id: await derivedId(attempt.domain, attempt.messageId, recipient, String(attempt.attempt), outcome.kind), ms: Date.now() };
  if (outcome.kind === "delivered") return deliveredEvent(facts, recipient, outcome.status, at);
  if (outcome.kind === "bounced") return failedEvent(facts, recipient, { severity: "permanent", reason: "bounce", status: outcome.status }, at);
  if (outcome.kind === "expired") return failedEvent(facts, recipient, { severity: "permanent", reason: "old", status: outcome.status }, at);
  return failedEvent(facts, recipient, { severity: "temporary", reason: "generic", status: outcome.status }, at);
}

async function deliverJob(job: ParsedDeliveryJob, env: Env, smtp: SmtpPool, sources: ComposeSources): Promise<void> {
  const now = Date.now();
  // A compose pack is composed at once (its accepted events are due now) and holds its copies itself.
  if (job.v !== 3 && job.notBefore > now + 1000) {
    // Scheduled further ahead than one queue delay allows: hop until it is time.
    await env.DELIVERY.send(job, { contentType: "json", delaySeconds: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil((job.notBefore - now) / 1000)) });
    return;
  }
  const attempt = job.v === 3 ? await composeAttempt(job, env, sources) : await attemptOf(job, env);
  if (!attempt) return;
  if (!attempt.copies)
    console.error(JSON.stringify({ msg: "message body missing, failing delivery", messageId: job.messageId, recipients: attempt.recipients.length }));
  const byRecipient = new Map((attempt.copies ?? []).map((c) => [c.recipient, c]));
  const results = await Promise.all(
    attempt.recipients.map(async (recipient) => {
      const copy = byRecipient.get(recipient) ?? null;
      const outcome = await outcomeFor(attempt, copy, env, smtp);
      return { recipient, outcome, event: await eventOf(attempt, recipient, copy, outcome) };
    }),
  );

  // Recipients failing together share the schedule's delay: one job per delay carries them all again.
  const retries = new Map<number, string[]>();
  for (const { recipient, outcome } of results) {
    if (outcome.kind === "retry") retries.set(outcome.delaySeconds, [...(retries.get(outcome.delaySeconds) ?? []), recipient]);
  }
  for (const [delaySeconds, recipients] of retries) {
    await env.DELIVERY.send(attempt.retryJob(recipients, attempt.attempt + 1), { contentType: "json", delaySeconds });
  }
  await sendInBatches(
    queueFor(env, "events", job.domain),
    packEvents(
      job.domain,
      results.map((r) => r.event),
      MAX_QUEUE_BODY_BYTES,
    ).map((body) => ({ body })),
  );
  if (retries.size === 0) await attempt.cleanup?.();
}

/**
 * A batch (wrangler.toml: 5 messages). Compose packs go one after another, grouped by message:
 * each holds its message's stored request and its built copies in memory while it delivers, so
 * one at a time keeps an invocation within its 128 MB whatever the messages' sizes. Their SMTP
 * sessions still run SMTP_SESSIONS_AT_ONCE at a time, beside those of any older jobs.
 */
export async function consumeDeliveries(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const smtp = new SmtpPool(SMTP_SESSIONS_AT_ONCE);
  try {
    await consumeWith(batch, env, smtp);
  } finally {
    // Sessions stay open between the batch's messages, and end with it.
    await smtp.close();
  }
}

async function consumeWith(batch: MessageBatch<unknown>, env: Env, smtp: SmtpPool): Promise<void> {
  const sources = new ComposeSources();
  const jobs: Array<{ message: Message<unknown>; job: ParsedDeliveryJob }> = [];
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = deliveryJobSchema.safeParse(message.body);
      if (!parsed.success || (parsed.data.v === 2 && (parsed.data.pack === undefined) === (parsed.data.packKey === undefined))) {
        const reason = parsed.success ? "exactly one of pack and packKey" : (parsed.error.issues[0]?.message ?? "invalid");
        await deadLetter(env, batch.queue, message, `malformed: ${reason}`);
      } else jobs.push({ message, job: parsed.data });
    }),
  );
  const run = async ({ message, job }: { message: Message<unknown>; job: ParsedDeliveryJob }) => {
    try {
      await deliverJob(job, env, smtp, sources);
      message.ack();
    } catch (error) {
      // Recording the outcome failed (queue or R2 unavailable): try the whole attempt again.
      console.error(JSON.stringify({ msg: "delivery bookkeeping failed, retrying", messageId: job.messageId, error: String(error) }));
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  };
  const messageOf = ({ job }: { job: ParsedDeliveryJob }) => (job.v === 3 ? `${job.domain}/${job.storage.key}` : "");
  const composing = jobs.filter(({ job }) => job.v === 3).sort((a, b) => messageOf(a).localeCompare(messageOf(b)));
  await Promise.all([
    ...jobs.filter(({ job }) => job.v !== 3).map(run),
    (async () => {
      for (const item of composing) await run(item);
    })(),
  ]);
}
