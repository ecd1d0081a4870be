// Messages API, Mailgun's: POST /v3/{domain}/messages and /messages.mime. Validates everything
// first, the whole send included (src/api/send-plan.ts), so a refused message leaves nothing in
// R2, D1 or the queues; then checks every recipient against the domain's suppressions in one
// Durable Object call, keeps one copy of the message as submitted (src/db/stored-messages.ts), its
// metadata once (src/db/messages.ts), builds each recipient's copy with tracking, and queues the
// accepted (and suppressed) events and the deliveries packed: a 1,000-recipient send is a few
// dozen queue messages, not two per recipient.
// Bindings: DB, DOMAIN_STATE, EVENTS, DELIVERY, MESSAGES.
import { Hono } from "hono";
import { getDomain } from "../db/domains";
import { saveSentMessageMetadata } from "../db/messages";
import { sendInBatches } from "../db/queue-batches";
import { saveReturnPaths } from "../db/return-paths";
import { newStorageKey, storeMessage } from "../db/stored-messages";
import { randomId } from "../domain/base64url";
import { MAX_QUEUE_DELAY_SECONDS } from "../domain/delivery-job";
import { packEvents } from "../domain/event-packs";
import { MAX_QUEUE_BODY_BYTES } from "../domain/queue-messages";
import { acceptedEvent, deliveredEvent, failedEvent, type MessageFacts } from "../domain/send-events";
import { resolveTracking } from "../domain/tracking-settings";
import type { MailgunEvent } from "../domain/tracking-event";
import { returnPathsOf } from "../domain/verp";
import type { Env } from "../env";
import type { RecipientFacts } from "./compose-message";
import type { ApiEnv } from "./context";
import { acceptedByState, badRequest, notFound } from "./errors";
import { readMessageRequest, type MessageRequest } from "./message-form";
import { readMimeRequest } from "./message-mime";
import { buildCopies } from "./send-copies";
import { checkEventSizes, planSend, splitFacts, type OwnFacts } from "./send-plan";

function newMessageId(domain: string): string {
  const now = new Date();
  const stamp = now.toISOString().replace(/[-:TZ]/g, "").replace(".", "");
  return `${stamp}.${randomId()}@${domain}`;
}

/** The facts of one recipient's events: the message's, with its own over them. */
function factsFor(base: Omit<MessageFacts, "headers" | "userVariables">, recipient: RecipientFacts): MessageFacts {
  return { ...base, headers: recipient.eventHeaders, userVariables: recipient.userVariables };
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

  // Every check that can refuse the message comes before the first write.
  const plans = planSend(request, domain, messageId, recipients);
  const storageKey = newStorageKey(now);
  const storage = { key: storageKey, url: `${apiOrigin}/v3/domains/${domain.name}/messages/${storageKey}` };
  const base = { domain: domain.name, messageId, tags: request.tags, testMode: request.testMode, storage };
  const attachments = request.attachments.map((a) => ({ filename: a.filename, "content-type": a.contentType, size: a.content.length }));
  const everyone = recipients.map((r) => r.address);
  const accepted = plans.map((plan) =>
    acceptedEvent(
      factsFor(base, plan),
      plan.recipient.address,
      { recipients: request.recipientVariables ? [plan.recipient.address] : everyone, method: "http", sender: request.from.address, attachments },
      { id: randomId(), ms: now },
    ),
  );
  checkEventSizes(accepted);

  const state = env.DOMAIN_STATE.get(env.DOMAIN_STATE.idFromName(domain.name));
  const checks = acceptedByState(await state.checkRecipients(everyone, request.tags));
  // One copy of the message as submitted, for GET and resend (POST) /v3/domains/{d}/messages/{key}.
  await storeMessage(env.MESSAGES, domain.name, messageId, request, now, storageKey);
  // Metadata before any delivery: the events of this message's opens and clicks read it.
  const shared = splitFacts(request, plans);
  await saveSentMessageMetadata(
    env,
    domain.name,
    messageId,
    { tags: request.tags, userVariables: shared.userVariables, headers: shared.headers, preparedAt: now },
    plans.map((plan, i): OwnFacts & { recipient: string } => ({ recipient: plan.recipient.address, ...shared.own[i] })),
  );

  const { sizes, jobs } = await buildCopies(
    env,
    domain,
    request,
    plans.map((facts, i) => ({ facts, own: shared.own[i]!, deliver: !checks[i]!.suppressed && !request.testMode })),
    { messageId, issuedAt: Math.floor(now / 1000), tracking, date, acceptedAt: now, notBefore: request.deliverAt },
    { headers: shared.headers, tags: request.tags, userVariables: shared.userVariables, storage },
  );

  const events: MailgunEvent[] = [];
  for (const [i, plan] of plans.entries()) {
    const event = accepted[i]!;
    event.message.size = sizes[i]!;
    events.push(event);
    const facts = { ...factsFor(base, plan), size: sizes[i]! };
    const suppressed = checks[i]!.suppressed;
    if (suppressed) {
      // Never attempted: Mailgun's 6xx drop codes, with no delivery.
      const status = { code: suppressed.code, message: "", description: suppressed.description, attemptNo: 1 };
      events.push(failedEvent(facts, plan.recipient.address, { severity: "permanent", reason: suppressed.reason, status }, { id: randomId(), ms: now + 1 }));
    } else if (request.testMode) {
      events.push(deliveredEvent(facts, plan.recipient.address, { code: 250, message: "OK (test mode: not sent)", attemptNo: 1 }, { id: randomId(), ms: now + 1 }));
    }
  }
  // Before any delivery is queued: a bounce is attributed through its return path's stored id.
  const attempted = plans.filter((_, i) => !checks[i]!.suppressed).map((plan) => plan.recipient.address);
  if (!request.testMode) await saveReturnPaths(env, domain.name, await returnPathsOf(env.TRACKING_SECRET, domain.name, messageId, attempted), now);
  await sendInBatches(env.EVENTS, packEvents(domain.name, events, MAX_QUEUE_BODY_BYTES).map((body) => ({ body })));
  const delaySeconds = request.deliverAt > now ? Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil((request.deliverAt - now) / 1000)) : undefined;
  await sendInBatches(env.DELIVERY, jobs.map((body) => ({ body, delaySeconds })));
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
