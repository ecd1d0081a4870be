// Inbound mail to the VERP return paths: a hard-bounce DSN becomes a permanent `failed` event
// (delayed bounce), an ARF report a `complained` event, both sent to the events queue whose
// consumer stores them and updates the suppression lists. Bindings: DB (domains, return paths,
// message metadata), the events queue (the domain's partition); reads TRACKING_SECRET to verify VERP addresses.
import PostalMime, { type Email } from "postal-mime";
import { getDomain } from "../db/domains";
import { loadMessageMetadata, messageKey } from "../db/messages";
import { queueFor } from "../db/queue-partitions";
import { findReturnPath, findReturnPathById } from "../db/return-paths";
import type { QueueMessage } from "../domain/queue-messages";
import { complainedEvent, failedEvent, type MessageFacts } from "../domain/send-events";
import type { MailgunEvent } from "../domain/tracking-event";
import { parseVerpAddress, type VerpTarget } from "../domain/verp";
import type { Env } from "../env";
import {
  bounceStatusOf,
  classifyRecipient,
  DELIVERY_STATUS_TYPES,
  FEEDBACK_REPORT_TYPE,
  inboundEventId,
  isComplaint,
  isVerpAddress,
  parseDeliveryStatus,
  parseFeedbackReport,
  permanentFailureFor,
  RETURNED_MESSAGE_TYPES,
  reportKindOf,
  verpCandidates,
} from "./reports";

/** Bounces and complaints are small; anything bigger is not worth parsing (10 MiB). */
export const MAX_INBOUND_BYTES = 10 * 1024 * 1024;

function log(msg: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ msg, ...fields }));
}

export async function handleInboundEmail(message: ForwardableEmailMessage, env: Env, _ctx: ExecutionContext): Promise<void> {
  // Never throw: a throw would make the sending MTA retry (or bounce the bounce) forever.
  try {
    await processInboundEmail(message, env);
  } catch (error) {
    log("inbound email failed", { from: message.from, to: message.to, error: String(error) });
  }
}

async function processInboundEmail(message: ForwardableEmailMessage, env: Env): Promise<void> {
  const context = { from: message.from, to: message.to, size: message.rawSize };
  if (message.rawSize > MAX_INBOUND_BYTES) return log("inbound email too large, dropped", context);
  const raw = await readCapped(message.raw, MAX_INBOUND_BYTES);
  if (!raw) return log("inbound email too large, dropped", context);

  let email: Email;
  try {
    // Keep returned messages as raw parts: their headers (Return-Path) are what we look at.
    email = await PostalMime.parse(raw, { forceRfc822Attachments: true, attachmentEncoding: "utf8" });
  } catch (error) {
    return log("inbound email unparseable, dropped", { ...context, error: String(error) });
  }
  const parts = email.attachments.map((a) => ({ type: a.mimeType, text: typeof a.content === "string" ? a.content : "" }));
  const kind = reportKindOf(
    email.headers.find((h) => h.key === "content-type")?.value,
    parts.map((p) => p.type),
  );
  if (kind === "other") {
    // Mail to a bounce+ address that is not a report (auto-replies) is accepted and ignored;
    // mail to any other address here has no reader, so refuse it in the SMTP session.
    if (!isVerpAddress(message.to)) message.setReject("Mailbox unavailable: this address only takes delivery reports");
    return log("inbound email is not a report, dropped", context);
  }

  const returnedHeaders = parts.filter((p) => RETURNED_MESSAGE_TYPES.includes(p.type)).map((p) => p.text);
  const failedRecipients = email.headers.filter((h) => h.key === "x-failed-recipients").map((h) => h.value);
  if (kind === "delivery-status") {
    const statusPart = parts.find((p) => DELIVERY_STATUS_TYPES.includes(p.type));
    const recipients = parseDeliveryStatus(statusPart?.text ?? "");
    if (!recipients.some((r) => classifyRecipient(r) === "permanent")) {
      // Delays are retried by the delivery consumer; successes and relays need nothing.
      const temporary = recipients.some((r) => classifyRecipient(r) === "temporary");
      return log(temporary ? "temporary DSN, dropped" : "DSN without a permanent failure, dropped", { ...context, recipients: recipients.length });
    }
    const target = await findDelivery(env, verpCandidates({ envelopeTo: message.to, returnedHeaders, failedRecipients }), context);
    if (!target) return;
    const failure = permanentFailureFor(recipients, target.recipient)!;
    const facts = await messageFacts(env, target);
    const event = failedEvent(
      facts,
      target.recipient,
      { severity: "permanent", reason: "generic", status: bounceStatusOf(failure), delayedBounce: true },
      { id: await inboundEventId("failed", target), ms: Date.now() },
    );
    await sendEvent(env, target, event);
    return log("delayed bounce recorded", { domain: target.domain, messageId: target.messageId, status: failure.status });
  }

  const feedback = parseFeedbackReport(parts.find((p) => p.type === FEEDBACK_REPORT_TYPE)?.text ?? "");
  if (!isComplaint(feedback)) return log("feedback report is not a complaint, dropped", { ...context, feedbackType: feedback.feedbackType });
  const candidates = verpCandidates({ envelopeTo: message.to, returnedHeaders, originalMailFrom: feedback.originalMailFrom, failedRecipients: [] });
  const target = await findDelivery(env, candidates, context);
  if (!target) return;
  const event = complainedEvent(await messageFacts(env, target), target.recipient, { id: await inboundEventId("complained", target), ms: Date.now() });
  await sendEvent(env, target, event);
  log("complaint recorded", { domain: target.domain, messageId: target.messageId, feedbackType: feedback.feedbackType });
}

/** The whole stream, or null (stream cancelled) once it passes `cap` bytes. */
async function readCapped(stream: ReadableStream<Uint8Array>, cap: number): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * The first candidate whose signature verifies, whose id names a stored return path and whose
 * domain still exists. The recipient and domain come from the signed address and the row it
 * names, never from what the report claims.
 */
async function findDelivery(env: Env, candidates: string[], context: Record<string, unknown>): Promise<VerpTarget | null> {
  let target: VerpTarget | null = null;
  let unknownIds = 0;
  for (const candidate of candidates) {
    const parsed = await parseVerpAddress(candidate, env.TRACKING_SECRET);
    if (parsed?.kind === "legacy") target = { domain: parsed.domain, messageId: parsed.messageId, recipient: parsed.recipient };
    else if (parsed) {
      // Signed, so one of ours: one lookup. Purged or never stored (a test-mode send) counts as unknown.
      // An address on a bounce domain (BOUNCE_DOMAIN, now or before a change) names no sending
      // domain, so its id is looked up alone; one on a sending domain first by domain and id.
      const onBounceDomain = parsed.domain === (env.BOUNCE_DOMAIN ?? "").trim().toLowerCase();
      const byDomain = onBounceDomain ? null : await findReturnPath(env, parsed.domain, parsed.id, Date.now(), parsed.day);
      const path = byDomain ? { ...byDomain, domain: parsed.domain } : await findReturnPathById(env, parsed.id, Date.now(), parsed.day);
      if (path) target = { domain: path.domain, messageId: path.messageId, recipient: path.recipient, sentAt: path.createdAt };
      else unknownIds++;
    }
    if (target) break;
  }
  if (!target) {
    log("report names no verifiable VERP address, dropped", { ...context, candidates: candidates.length, unknownIds });
    return null;
  }
  if (!(await getDomain(env.DB, target.domain))) {
    log("report for an unknown domain, dropped", { ...context, domain: target.domain });
    return null;
  }
  return target;
}

/** The message's tags, variables and headers as remembered at send time (empty when forgotten). */
async function messageFacts(env: Env, target: VerpTarget): Promise<MessageFacts> {
  const metadata = (await loadMessageMetadata(env, [target])).get(messageKey(target));
  return {
    domain: target.domain,
    messageId: target.messageId,
    headers: metadata?.headers ?? {},
    tags: metadata?.tags ?? [],
    userVariables: metadata?.userVariables ?? {},
  };
}

async function sendEvent(env: Env, target: VerpTarget, event: MailgunEvent): Promise<void> {
  await queueFor(env, "events", target.domain).send({ type: "event", v: 1, domain: target.domain, event } as QueueMessage, { contentType: "json" });
}
