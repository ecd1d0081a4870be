// Messages API, Mailgun's: POST /v3/{domain}/messages and /messages.mime. Validates everything
// first (nothing is queued for a bad request), checks every recipient against the domain's
// suppressions in one Durable Object call, renders each recipient's copy with tracking, then
// keeps one copy of the message as submitted (src/db/stored-messages.ts), records accepted (and
// suppressed) events and queues one delivery per recipient.
// Bindings: DB, DOMAIN_STATE, EVENTS, DELIVERY, MESSAGES.
import { Hono } from "hono";
import { getDomain } from "../db/domains";
import { saveMessageMetadataMany } from "../db/messages";
import { saveReturnPaths } from "../db/return-paths";
import { storeMessage } from "../db/stored-messages";
import { randomId } from "../domain/base64url";
import type { DeliveryJob } from "../domain/delivery-job";
import type { QueueMessage } from "../domain/queue-messages";
import { acceptedEvent, deliveredEvent, failedEvent, type MessageFacts } from "../domain/send-events";
import { resolveTracking } from "../domain/tracking-settings";
import type { MailgunEvent } from "../domain/tracking-event";
import { returnPathsOf, verpAddress } from "../domain/verp";
import type { Env } from "../env";
import { composeForRecipient } from "./compose-message";
import type { ApiEnv } from "./context";
import { acceptedByState, badRequest, notFound } from "./errors";
import { readMessageRequest, type MessageRequest } from "./message-form";
import { readMimeRequest } from "./message-mime";

/** MIME up to this size travels inside the delivery queue message (limit 128 KB); larger goes to R2. */
const INLINE_MIME_BYTES = 96 * 1024;
/** Keep each sendBatch under the 256 KB batch limit. */
const MAX_BATCH_BYTES = 200 * 1024;

async function sendInBatches<T>(queue: Queue<T>, bodies: Array<{ body: T; delaySeconds?: number }>): Promise<void> {
  let batch: Array<MessageSendRequest<T>> = [];
  let bytes = 0;
  for (const item of bodies) {
    const size = JSON.stringify(item.body).length;
    if (batch.length > 0 && (batch.length === 100 || bytes + size > MAX_BATCH_BYTES)) {
      await queue.sendBatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ body: item.body, contentType: "json", delaySeconds: item.delaySeconds });
    bytes += size;
  }
  if (batch.length > 0) await queue.sendBatch(batch);
}

function newMessageId(domain: string): string {
  const now = new Date();
  const stamp = now.toISOString().replace(/[-:TZ]/g, "").replace(".", "");
  return `${stamp}.${randomId()}@${domain}`;
}

/**
 * Accepts a validated request for a domain; returns the Mailgun answer. `apiOrigin` is where this
 * API was reached, for the stored copy's URL in the events.
 */
export async function acceptMessage(env: Env, domainName: string, request: MessageRequest, apiOrigin: string): Promise<{ id: string; message: string }> {
  const domain = await getDomain(env.DB, domainName);
  if (!domain) throw notFound("Domain not found");
  let tracking;
  try {
    tracking = resolveTracking(domain, request.tracking);
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  const seen = new Set<string>();
  const recipients = [...request.to, ...request.cc, ...request.bcc].filter((r) => {
    const key = r.address.toLowerCase();
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const messageId = newMessageId(domain.name);
  const now = Date.now();
  const date = new Date(now).toUTCString().replace("GMT", "+0000");
  const state = env.DOMAIN_STATE.get(env.DOMAIN_STATE.idFromName(domain.name));
  const checks = acceptedByState(await state.checkRecipients(recipients.map((r) => r.address), request.tags));
  const attachments = request.attachments.map((a) => ({ filename: a.filename, "content-type": a.contentType, size: a.content.length }));
  // One copy of the message as submitted, for GET and resend (POST) /v3/domains/{d}/messages/{key}.
  const storageKey = await storeMessage(env.MESSAGES, domain.name, messageId, request, now);
  const storage = { key: storageKey, url: `${apiOrigin}/v3/domains/${domain.name}/messages/${storageKey}` };

  const events: Array<{ body: QueueMessage }> = [];
  const deliveries: Array<{ body: DeliveryJob; delaySeconds?: number }> = [];
  const metadata: Parameters<typeof saveMessageMetadataMany>[2] = [];
  const pushEvent = (event: MailgunEvent) => events.push({ body: { type: "event", v: 1, domain: domain.name, event } as QueueMessage });

  for (const [i, recipient] of recipients.entries()) {
    const copy = await composeForRecipient(env, domain, request, recipient, { messageId, issuedAt: Math.floor(now / 1000), tracking, date });
    const facts: MessageFacts = { domain: domain.name, messageId, headers: copy.eventHeaders, tags: request.tags, userVariables: copy.userVariables, size: copy.size, testMode: request.testMode, storage };
    metadata.push({ messageId, recipient: recipient.address, metadata: { tags: request.tags, userVariables: copy.userVariables, headers: copy.eventHeaders, preparedAt: now } });
    const sender = await verpAddress({ domain: domain.name, messageId, recipient: recipient.address }, env.TRACKING_SECRET);
    pushEvent(
      acceptedEvent(
        facts,
        recipient.address,
        { recipients: request.recipientVariables ? [recipient.address] : recipients.map((r) => r.address), method: "http", sender: request.from.address, attachments },
        { ms: now },
      ),
    );
    const suppressed = checks[i]!.suppressed;
    if (suppressed) {
      // Never attempted: Mailgun's 6xx drop codes, with no delivery.
      pushEvent(failedEvent(facts, recipient.address, { severity: "permanent", reason: suppressed.reason, status: { code: suppressed.code, message: "", description: suppressed.description, attemptNo: 1 } }, { ms: now + 1 }));
      continue;
    }
    if (request.testMode) {
      pushEvent(deliveredEvent(facts, recipient.address, { code: 250, message: "OK (test mode: not sent)", attemptNo: 1 }, { ms: now + 1 }));
      continue;
    }
    const job: DeliveryJob = {
      type: "delivery",
      v: 1,
      domain: domain.name,
      messageId,
      recipient: recipient.address,
      from: sender,
      acceptedAt: now,
      notBefore: request.deliverAt,
      attempt: 1,
      facts: { headers: copy.eventHeaders, tags: request.tags, userVariables: copy.userVariables, size: copy.size, storage },
    };
    if (copy.size <= INLINE_MIME_BYTES) job.mime = copy.mime;
    else {
      job.mimeKey = `${domain.name}/${messageId}/${recipient.address.toLowerCase()}`;
      await env.MESSAGES.put(job.mimeKey, copy.mime);
    }
    const delaySeconds = request.deliverAt > now ? Math.min(43_200, Math.ceil((request.deliverAt - now) / 1000)) : undefined;
    deliveries.push({ body: job, delaySeconds });
  }

  // Metadata first: the events of this message's opens and clicks read it.
  await saveMessageMetadataMany(env, domain.name, metadata);
  // Before any delivery is queued: a bounce is attributed through its return path's stored id.
  if (!request.testMode) await saveReturnPaths(env, domain.name, await returnPathsOf(env.TRACKING_SECRET, domain.name, messageId, recipients.filter((_, i) => !checks[i]!.suppressed).map((r) => r.address)), now);
  await sendInBatches(env.EVENTS, events);
  await sendInBatches(env.DELIVERY, deliveries);
  return { id: `<${messageId}>`, message: "Queued. Thank you." };
}

export const messagesApi = new Hono<ApiEnv>()
  .post("/v3/:domain/messages", async (c) => {
    const request = await readMessageRequest(c);
    return c.json(await acceptMessage(c.env, c.req.param("domain").toLowerCase(), request, new URL(c.req.url).origin));
  })
  .post("/v3/:domain/messages.mime", async (c) => {
    const request = await readMimeRequest(c);
    return c.json(await acceptMessage(c.env, c.req.param("domain").toLowerCase(), request, new URL(c.req.url).origin));
  });
