// The compose stage of the delivery consumer, for compose packs (v3 jobs, src/domain/delivery-job.ts):
// each recipient's copy is built from the request as stored at acceptance, through the same code
// as prepare's tracking (src/api/compose-message.ts). On attempt 1, before any delivery, the pack's
// return paths are saved and each recipient's accepted event written with its copy's exact size
// (then a suppressed recipient's 605/606/607 failure, or in test mode its delivered event); a
// scheduled message's copies are then held as a pack of built copies (v2) until o:deliverytime.
// A retry builds the copies of its recipients again. Bindings: MESSAGES, DB, EVENTS, DELIVERY,
// TRACKING_SECRET.
import { composeForRecipient, messageDate, type RecipientFacts, recipientFacts, sharedToHeader, uniqueRecipients } from "../api/compose-message";
import type { MessageRequest } from "../api/message-form";
import { splitFacts } from "../api/send-plan";
import { getDomain, type SendingDomain } from "../db/domains";
import { outgoingPackKey, type PackCopy, putOutgoingPack } from "../db/outgoing-packs";
import { sendInBatches } from "../db/queue-batches";
import { queueFor } from "../db/queue-partitions";
import { saveReturnPaths } from "../db/return-paths";
import { loadStoredMessage } from "../db/stored-messages";
import type { ParsedAddress } from "../domain/addresses";
import { derivedId } from "../domain/base64url";
import { type DeliveryPackJob, MAX_QUEUE_DELAY_SECONDS, type PackFacts, type ParsedComposePackJob } from "../domain/delivery-job";
import { packEvents } from "../domain/event-packs";
import { MAX_QUEUE_BODY_BYTES } from "../domain/queue-messages";
import { acceptedEvent, deliveredEvent, failedEvent, type MessageFacts } from "../domain/send-events";
import { SUPPRESSIONS, type SuppressionReason } from "../domain/suppression";
import type { MailgunEvent } from "../domain/tracking-event";
import { jsonByteLength } from "../domain/utf8";
import { bounceDomainOf, returnPathsOf, verpAddress } from "../domain/verp";
import type { Env } from "../env";
import type { Attempt } from "./delivery-attempt";

/** What a message's copies are built from. */
interface ComposeSource {
  request: MessageRequest;
  domain: SendingDomain;
  /** The message's recipients by lower-cased address. */
  byAddress: Map<string, ParsedAddress>;
  everyone: string[];
}

async function loadSource(env: Env, job: ParsedComposePackJob): Promise<ComposeSource | null> {
  const [stored, domain] = await Promise.all([loadStoredMessage(env.MESSAGES, job.domain, job.storage.key, Date.now()), getDomain(env.DB, job.domain)]);
  if (!stored || stored.messageId !== job.messageId || !domain) return null;
  const recipients = uniqueRecipients(stored.request);
  return {
    request: stored.request,
    domain,
    byAddress: new Map(recipients.map((r) => [r.address.toLowerCase(), r])),
    everyone: recipients.map((r) => r.address),
  };
}

/**
 * The stored request and domain of the message being composed, read once for all its packs in an
 * invocation. Packs are composed one after another (src/consumers/delivery.ts), grouped by
 * message, so only one message's request is held at a time: memory stays one request and one
 * pack's copies (MAX_PACK_CONTENT_BYTES), whatever the batch.
 */
export class ComposeSources {
  #key = "";
  #source: Promise<ComposeSource | null> = Promise.resolve(null);

  get(env: Env, job: ParsedComposePackJob): Promise<ComposeSource | null> {
    const key = `${job.domain}/${job.storage.key}`;
    if (key !== this.#key) {
      this.#key = key;
      this.#source = loadSource(env, job);
    }
    return this.#source;
  }
}

interface ComposedCopy {
  facts: RecipientFacts;
  mime: string;
  size: number;
  suppressed?: SuppressionReason;
}

/** Each recipient's copy, in the job's order; null when a recipient is not one of the stored message's. */
async function buildCopies(env: Env, job: ParsedComposePackJob, source: ComposeSource): Promise<ComposedCopy[] | null> {
  const message = { messageId: job.messageId, issuedAt: Math.floor(job.acceptedAt / 1000), tracking: job.tracking, date: messageDate(job.acceptedAt) };
  const sharedTo = sharedToHeader(source.request);
  const copies: ComposedCopy[] = [];
  for (const { address, suppressed } of job.recipients) {
    const recipient = source.byAddress.get(address.toLowerCase());
    if (!recipient) return null;
    const facts = recipientFacts(source.request, recipient, job.messageId, sharedTo);
    const { mime, size } = await composeForRecipient(env, source.domain, source.request, facts, message);
    copies.push({ facts, mime, size, suppressed });
  }
  return copies;
}

/** What acceptance owes the pack's recipients before any delivery: return paths, then events. */
async function announce(env: Env, job: ParsedComposePackJob, source: ComposeSource, copies: ComposedCopy[]): Promise<void> {
  const { request } = source;
  const attachments = request.attachments.map((a) => ({ filename: a.filename, "content-type": a.contentType, size: a.content.length }));
  const events: MailgunEvent[] = [];
  for (const copy of copies) {
    const address = copy.facts.recipient.address;
    const facts: MessageFacts = {
      domain: job.domain,
      messageId: job.messageId,
      headers: copy.facts.eventHeaders,
      tags: request.tags,
      userVariables: copy.facts.userVariables,
      size: copy.size,
      testMode: request.testMode,
      storage: job.storage,
    };
    // Ids fixed by the delivery, so a redelivered pack writes nothing new.
    const at = async (kind: string, ms: number) => ({ id: await derivedId(job.domain, job.messageId, address, kind), ms });
    const extra = { recipients: request.recipientVariables ? [address] : source.everyone, method: "http" as const, sender: request.from.address, attachments };
    events.push(acceptedEvent(facts, address, extra, await at("accepted", job.acceptedAt)));
    if (copy.suppressed) {
      // Never attempted: Mailgun's 6xx drop codes, with no delivery.
      const { reason, code, description } = SUPPRESSIONS[copy.suppressed];
      events.push(
        failedEvent(
          facts,
          address,
          { severity: "permanent", reason, status: { code, message: "", description, attemptNo: 1 } },
          await at("suppressed", job.acceptedAt + 1),
        ),
      );
    } else if (request.testMode) {
      events.push(deliveredEvent(facts, address, { code: 250, message: "OK (test mode: not sent)", attemptNo: 1 }, await at("test-mode", job.acceptedAt + 1)));
    }
  }
  // Before any delivery: a bounce is attributed through its return path's stored id.
  const attempted = request.testMode ? [] : copies.filter((c) => !c.suppressed).map((c) => c.facts.recipient.address);
  await saveReturnPaths(env, job.domain, await returnPathsOf(env.TRACKING_SECRET, job.domain, job.messageId, attempted), job.acceptedAt);
  await sendInBatches(
    queueFor(env, "events", job.domain),
    packEvents(job.domain, events, MAX_QUEUE_BODY_BYTES).map((body) => ({ body })),
  );
}

/** The copies to deliver as a pack: what their events share, and each copy with its envelope sender. */
async function packOf(env: Env, job: ParsedComposePackJob, source: ComposeSource, copies: ComposedCopy[]): Promise<{ facts: PackFacts; copies: PackCopy[] }> {
  const shared = splitFacts(
    source.request,
    copies.map((c) => c.facts),
  );
  const facts: PackFacts = { headers: shared.headers, tags: source.request.tags, userVariables: shared.userVariables, storage: job.storage };
  const bounceDomain = bounceDomainOf(env.BOUNCE_DOMAIN);
  const packed = await Promise.all(
    copies.map(async (copy, i): Promise<PackCopy> => {
      const recipient = copy.facts.recipient.address;
      // The day names where saveReturnPaths stored the return path (the shard of the acceptance day).
      const from = await verpAddress({ domain: job.domain, messageId: job.messageId, recipient, sentAt: job.acceptedAt }, env.TRACKING_SECRET, bounceDomain);
      return { recipient, from, size: copy.size, ...shared.own[i], mime: copy.mime };
    }),
  );
  return { facts, copies: packed };
}

/** A scheduled message's copies, held until o:deliverytime as a pack of built copies (inline, or in R2). */
async function hold(env: Env, job: ParsedComposePackJob, pack: { facts: PackFacts; copies: PackCopy[] }): Promise<void> {
  if (pack.copies.length === 0) return;
  const held: DeliveryPackJob = {
    type: "delivery",
    v: 2,
    domain: job.domain,
    messageId: job.messageId,
    acceptedAt: job.acceptedAt,
    notBefore: job.notBefore,
    attempt: 1,
    recipients: pack.copies.map((c) => c.recipient),
  };
  let body: DeliveryPackJob = { ...held, pack };
  if (jsonByteLength(body) > MAX_QUEUE_BODY_BYTES) {
    const packKey = outgoingPackKey(job.domain, job.messageId, job.part);
    await putOutgoingPack(env.MESSAGES, packKey, pack.facts, pack.copies);
    body = { ...held, packKey };
  }
  const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil((job.notBefore - Date.now()) / 1000));
  await env.DELIVERY.send(body, { contentType: "json", delaySeconds });
}

/** The pack's message and its recipients' copies; null when the message or a recipient is gone. */
async function compose(env: Env, job: ParsedComposePackJob, sources: ComposeSources): Promise<{ source: ComposeSource; copies: ComposedCopy[] } | null> {
  const source = await sources.get(env, job);
  const copies = source && (await buildCopies(env, job, source));
  return source && copies ? { source, copies } : null;
}

/** The copies to deliver: none in test mode, none to a suppressed recipient. */
const deliverable = (source: ComposeSource, copies: ComposedCopy[]) => (source.request.testMode ? [] : copies.filter((c) => !c.suppressed));

/** The copies of a compose pack to deliver, built, without side effects; null when its message is gone. */
export async function buildPack(env: Env, job: ParsedComposePackJob, sources: ComposeSources): Promise<{ facts: PackFacts; copies: PackCopy[] } | null> {
  const composed = await compose(env, job, sources);
  return composed && packOf(env, job, composed.source, deliverable(composed.source, composed.copies));
}

/**
 * Composes a pack: its copies built, and on attempt 1 its return paths and acceptance events
 * written. Returns the attempt to deliver now, or null when the message waits for its time.
 * When the stored request is gone (past its 3 days) every recipient fails as `old`.
 */
export async function composeAttempt(job: ParsedComposePackJob, env: Env, sources: ComposeSources): Promise<Attempt | null> {
  const common = { domain: job.domain, messageId: job.messageId, acceptedAt: job.acceptedAt, attempt: job.attempt };
  const retryJob = (recipients: string[], attempt: number) => ({ ...job, attempt, recipients: recipients.map((address) => ({ address })) });
  const composed = await compose(env, job, sources);
  if (!composed) {
    const facts = { headers: {}, tags: [], userVariables: {}, storage: job.storage };
    return { ...common, facts, copies: null, recipients: job.recipients.map((r) => r.address), retryJob };
  }
  const { source, copies } = composed;
  if (job.attempt === 1) await announce(env, job, source, copies);
  const pack = await packOf(env, job, source, deliverable(source, copies));
  if (job.attempt === 1 && job.notBefore > Date.now() + 1000) {
    await hold(env, job, pack);
    return null;
  }
  return { ...common, facts: pack.facts, copies: pack.copies, recipients: pack.copies.map((c) => c.recipient), retryJob };
}
