// Webhooks queue consumer. A message is a pack of up to 100 events for one URL (v2) or, queued
// before packs, one event (v1). Each event is POSTed in its own request, signed as Mailgun signs
// it (webhook-post.ts), at most WEBHOOK_POSTS_AT_ONCE at a time per invocation, and its outcome is
// its own: 2xx is done; 406 is a refusal, never retried, and so is a URL whose host is not public
// (checked before every post, see url-safety.ts); anything else, a 10 s timeout or a network error
// is tried again on Mailgun's schedule (5 min, 10 min, 15 min, 1 h, 2 h, 4 h): the events of a
// pack that failed go back on the queue together, delayed, as a smaller pack; after the last
// attempt each joins the dead-letter list. A ledger in D1 keyed by (event, URL), kept beside each
// event (db/delivery-ledger.ts), stops a redelivered pack from posting an event again after a success.
// Bindings: DB (signing key, dead letters) and the event store's, the webhooks queue's producers (retries, to the domain's partition), EVENTS_DLQ (malformed messages).
import { doneDeliveryIds, type LedgerDelivery, recordFinishedDeliveries } from "../db/delivery-ledger";
import { sendInBatches } from "../db/queue-batches";
import { queueFor } from "../db/queue-partitions";
import { getSigningKey } from "../db/webhooks";
import { MAX_QUEUE_BODY_BYTES } from "../domain/queue-messages";
import { privateUrlsAllowed } from "../domain/url-safety";
import { packWebhookItems, unpackWebhookItems } from "../domain/webhook-packs";
import {
  classifyAttempt,
  eventDataOf,
  importSigningKey,
  type WebhookId,
  type WebhookJob,
  webhookDeliveryId,
  webhookJobSchema,
  webhookRetryDelay,
} from "../domain/webhooks";
import type { Env } from "../env";
import { limiter } from "./limiter";
import { deadLetter, retryDelaySeconds } from "./outcomes";
import { postWebhook, type WebhookPostOptions } from "./webhook-post";

/**
 * Posts one invocation has in flight at once: Workers allow 6 simultaneous outgoing connections
 * per invocation, and the ledger and queue calls come before and after the posts, not between.
 * A batch is at most 3 packs (wrangler.toml), so at most 300 posts (subrequests) per invocation,
 * and 50 rounds of 6: 500 s if every receiver takes the whole 10 s timeout, within a consumer's
 * 15 minutes. Unit: requests.
 */
export const WEBHOOK_POSTS_AT_ONCE = 6;

/** One event for the job's URL, with its ledger id (derived from event id and URL). */
interface Delivery {
  id: string;
  webhook: WebhookId;
  event: Record<string, unknown> & { id: string };
}

interface Job {
  message: Message<unknown>;
  domain: string;
  url: string;
  attempt: number;
  deliveries: Delivery[];
}

/** The deliveries of a queue message, or why it is malformed. */
async function jobOf(message: Message<unknown>): Promise<Job | string> {
  const parsed = webhookJobSchema.safeParse(message.body);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  const body = parsed.data;
  const job = { message, domain: body.domain, url: body.url, attempt: body.attempt };
  if (body.v === 1) return { ...job, deliveries: [{ id: body.id, webhook: body.webhook, event: body.event }] };
  const deliveries: Delivery[] = [];
  for (const [i, { webhook, event }] of unpackWebhookItems(body).entries()) {
    const data = eventDataOf(event);
    if (!data) return `events.${i}: an event needs an id of 1 to 64 characters`;
    deliveries.push({ id: await webhookDeliveryId(data.id, body.url), webhook, event: data });
  }
  return { ...job, deliveries };
}

/** The packs that carry these deliveries of a job to its URL again. */
function packsFor(job: Job, attempt: number, deliveries: Delivery[], delaySeconds: number): Array<{ body: WebhookJob; delaySeconds: number }> {
  const items = deliveries.map(({ webhook, event }) => ({ webhook, event }));
  return packWebhookItems(job.domain, job.url, attempt, items, MAX_QUEUE_BODY_BYTES).map((body) => ({ body, delaySeconds }));
}

export async function consumeWebhooks(batch: MessageBatch<unknown>, env: Env, options: WebhookPostOptions = {}): Promise<void> {
  const jobs: Job[] = [];
  for (const message of batch.messages) {
    const job = await jobOf(message);
    if (typeof job === "string") await deadLetter(env, batch.queue, message, `malformed: ${job}`);
    else jobs.push(job);
  }
  if (jobs.length === 0) return;

  const now = options.now ?? Date.now;
  let done: Set<string>;
  let signingKey: CryptoKey;
  try {
    const keys = jobs.flatMap((job) => job.deliveries.map((d) => ({ id: d.id, domain: job.domain, eventTimestamp: d.event.timestamp })));
    [done, signingKey] = await Promise.all([doneDeliveryIds(env, keys, now()), getSigningKey(env.DB).then(importSigningKey)]);
  } catch (error) {
    console.error(JSON.stringify({ msg: "webhook ledger unavailable, retrying", error: String(error) }));
    for (const { message } of jobs) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }

  const allowPrivateUrls = privateUrlsAllowed(env.WEBHOOK_ALLOW_PRIVATE_URLS);
  const post = limiter(WEBHOOK_POSTS_AT_ONCE);
  // Posted (or refused) before, or claimed by an earlier message of this batch (a fan-out sent twice).
  const claimed = new Set(done);
  const settled = await Promise.all(
    jobs.map(async (job) => {
      const rows: LedgerDelivery[] = [];
      const again: Delivery[] = [];
      const last = webhookRetryDelay(job.attempt) === null;
      await Promise.all(
        job.deliveries.map(async (delivery) => {
          if (claimed.has(delivery.id)) return;
          claimed.add(delivery.id);
          const result = await post(() => postWebhook(signingKey, job.url, delivery.event, { ...options, allowPrivateUrls }));
          const outcome = classifyAttempt(result);
          if (outcome === "retry" && !last) {
            again.push(delivery);
            return;
          }
          rows.push({
            id: delivery.id,
            domain: job.domain,
            webhook: delivery.webhook,
            url: job.url,
            eventId: delivery.event.id,
            eventTimestamp: delivery.event.timestamp,
            attempts: job.attempt,
            status: outcome === "retry" ? "failed" : outcome,
            lastStatus: result.status ?? null,
            lastError: result.error ?? (outcome === "delivered" ? "" : (result.body ?? "")),
            payload: outcome === "retry" ? delivery.event : null,
            finishedAt: now(),
          });
        }),
      );
      return { job, rows, again };
    }),
  );

  let recorded = true;
  try {
    await recordFinishedDeliveries(
      env,
      settled.flatMap(({ rows }) => rows),
      now(),
    );
  } catch (error) {
    recorded = false;
    console.error(JSON.stringify({ msg: "webhook outcomes not recorded", error: String(error) }));
  }
  for (const { job, rows, again } of settled) {
    const { message } = job;
    const sends = again.length > 0 ? packsFor(job, job.attempt + 1, again, webhookRetryDelay(job.attempt)!) : [];
    if (!recorded) {
      // Delivered and refused posts stay done (posting again would be the duplicate we promise
      // not to make); a dead letter must be stored, so its events come back for the last attempt.
      const byId = new Map(job.deliveries.map((d) => [d.id, d]));
      const dead = rows.filter((row) => row.status === "failed").map((row) => byId.get(row.id)!);
      if (dead.length > 0) sends.push(...packsFor(job, job.attempt, dead, retryDelaySeconds(message.attempts)));
    }
    try {
      await sendInBatches(queueFor(env, "webhooks", job.domain), sends);
      message.ack();
    } catch (error) {
      // The pack comes back whole: the ledger skips what was delivered, the rest is posted again.
      console.error(JSON.stringify({ msg: "webhook retry could not be queued, retrying the message", url: job.url, error: String(error) }));
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
