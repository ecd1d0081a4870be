// Messages API, Mailgun's: POST /v3/{domain}/messages and /messages.mime. Validates everything
// first, the whole send included (src/api/send-plan.ts), so a refused message leaves nothing in
// R2, D1 or the queues; then checks every recipient against the domain's suppressions in one
// Durable Object call, keeps one copy of the message as submitted (src/db/stored-messages.ts), its
// metadata once (src/db/messages.ts), and queues its recipients in compose packs of up to 100
// (src/domain/compose-packs.ts). No copy is built here: the delivery consumer builds each
// recipient's tracked copy from the stored request, saves its return path, writes its accepted
// event (with the copy's size) and delivers it (src/consumers/compose.ts), so accepting 1,000
// recipients costs the request a few milliseconds, not a second.
// Bindings: DB, DOMAIN_STATE, DELIVERY, MESSAGES.
import { Hono } from "hono";
import { getDomain } from "../db/domains";
import { saveSentMessageMetadata } from "../db/messages";
import { sendInBatches } from "../db/queue-batches";
import { newStorageKey, storeMessage } from "../db/stored-messages";
import { randomId } from "../domain/base64url";
import { composePacks } from "../domain/compose-packs";
import { acceptedEvent } from "../domain/send-events";
import { resolveTracking } from "../domain/tracking-settings";
import type { Env } from "../env";
import { uniqueRecipients } from "./compose-message";
import type { ApiEnv } from "./context";
import { acceptedByState, badRequest, notFound } from "./errors";
import { type MessageRequest, readMessageRequest } from "./message-form";
import { readMimeRequest } from "./message-mime";
import { checkEventSizes, type OwnFacts, planSend, splitFacts } from "./send-plan";

function newMessageId(domain: string): string {
  const now = new Date();
  const stamp = now
    .toISOString()
    .replace(/[-:TZ]/g, "")
    .replace(".", "");
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
  const recipients = uniqueRecipients(request);
  const messageId = newMessageId(domain.name);
  const now = Date.now();

  // Every check that can refuse the message comes before the first write.
  const plans = planSend(request, domain, messageId, recipients);
  const storageKey = newStorageKey(now);
  const storage = { key: storageKey, url: `${apiOrigin}/v3/domains/${domain.name}/messages/${storageKey}` };
  const everyone = recipients.map((r) => r.address);
  // The accepted events the consumer will write, as large as they can be (only their size is
  // still unknown): a send whose events would not fit a queue message is refused now.
  const attachments = request.attachments.map((a) => ({ filename: a.filename, "content-type": a.contentType, size: a.content.length }));
  const base = { domain: domain.name, messageId, tags: request.tags, testMode: request.testMode, storage };
  checkEventSizes(
    plans.map((plan) =>
      acceptedEvent(
        { ...base, headers: plan.eventHeaders, userVariables: plan.userVariables },
        plan.recipient.address,
        { recipients: request.recipientVariables ? [plan.recipient.address] : everyone, method: "http", sender: request.from.address, attachments },
        { id: randomId(), ms: now },
      ),
    ),
  );

  const state = env.DOMAIN_STATE.get(env.DOMAIN_STATE.idFromName(domain.name));
  const checks = acceptedByState(await state.checkRecipients(everyone, request.tags));
  // One copy of the message as submitted: what the consumer builds the copies from, and what
  // GET and resend (POST) /v3/domains/{d}/messages/{key} read.
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

  // Queued at once, also when scheduled: the consumer writes the accepted events now and holds
  // the built copies until o:deliverytime.
  const packs = composePacks(
    { domain: domain.name, messageId, storage, acceptedAt: now, notBefore: request.deliverAt, tracking },
    plans.map((plan, i) => {
      const suppressed = checks[i]!.suppressed?.reason;
      return { address: plan.recipient.address, contentBytes: plan.contentBytes, ...(suppressed ? { suppressed } : {}) };
    }),
  );
  await sendInBatches(
    env.DELIVERY,
    packs.map((body) => ({ body })),
  );
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
