// Webhooks queue consumer: POSTs each event to one URL, signed as Mailgun signs it, and records
// the outcome. 2xx is done; 406 is a refusal, never retried, and so is a URL whose host is not
// public (checked before every post, see url-safety.ts); anything else, a 10 s timeout or a
// network error is tried again on Mailgun's schedule (5 min, 10 min, 15 min, 1 h, 2 h, 4 h) by
// sending the delivery again, delayed; after the last attempt it joins the dead-letter list.
// A ledger in D1 keyed by (event, URL) stops a redelivered message from posting after a success.
// Bindings: DB (ledger, signing key), WEBHOOKS (retries), EVENTS_DLQ (malformed messages).
import { finishedDeliveryIds, getSigningKey, recordDeliveries, type FinishedDelivery } from "../db/webhooks";
import {
  classifyAttempt,
  importSigningKey,
  signWebhook,
  webhookDeliverySchema,
  webhookRetryDelay,
  WEBHOOK_TIMEOUT_MS,
  type AttemptResult,
  type WebhookDelivery,
} from "../domain/webhooks";
import { privateUrlsAllowed, webhookHostRefusal } from "../domain/url-safety";
import type { Env } from "../env";
import { deadLetter, retryDelaySeconds } from "./outcomes";

export interface WebhookPostOptions {
  /** The fetch used to reach receivers (tests inject one). */
  fetch?: typeof fetch;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * One signed POST. Never throws: a timeout or network error becomes `{error}`. The URL's host is
 * checked again here, whatever the API checked when it was stored (it may predate the rule, or the
 * setting may have changed): a host that is not public is `{error, refused}` and nothing is sent.
 * Redirects are never followed (`redirect: "manual"`): a 3xx is the answer, a failure.
 */
export async function postWebhook(
  signingKey: CryptoKey,
  url: string,
  eventData: Record<string, unknown>,
  options: WebhookPostOptions & { allowPrivateUrls: boolean },
): Promise<AttemptResult & { body?: string }> {
  const refusal = options.allowPrivateUrls ? null : webhookHostRefusal(url);
  if (refusal) return { error: `not posted: the URL's host ${refusal} (WEBHOOK_ALLOW_PRIVATE_URLS is off)`, refused: true };
  const signature = await signWebhook(signingKey, (options.now ?? Date.now)());
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Tidings webhooks (Mailgun-compatible)" },
      body: JSON.stringify({ signature, "event-data": eventData }),
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
    });
    // Read a little of the answer (shown by the test call and kept with a failure), then let go.
    const body = (await response.text().catch(() => "")).slice(0, 500);
    return { status: response.status, body };
  } catch (error) {
    const name = (error as Error)?.name;
    return { error: name === "TimeoutError" || name === "AbortError" ? `no answer within ${options.timeoutMs ?? WEBHOOK_TIMEOUT_MS} ms` : String(error) };
  }
}

export async function consumeWebhooks(batch: MessageBatch<unknown>, env: Env, options: WebhookPostOptions = {}): Promise<void> {
  const jobs: Array<{ message: Message<unknown>; job: WebhookDelivery }> = [];
  for (const message of batch.messages) {
    const parsed = webhookDeliverySchema.safeParse(message.body);
    if (parsed.success) jobs.push({ message, job: parsed.data });
    else await deadLetter(env, batch.queue, message, `malformed: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  if (jobs.length === 0) return;

  let done: Set<string>;
  let signingKey: CryptoKey;
  try {
    [done, signingKey] = await Promise.all([finishedDeliveryIds(env.DB, jobs.map(({ job }) => job.id)), getSigningKey(env.DB).then(importSigningKey)]);
  } catch (error) {
    console.error(JSON.stringify({ msg: "webhook ledger unavailable, retrying", error: String(error) }));
    for (const { message } of jobs) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }

  const now = options.now ?? Date.now;
  const allowPrivateUrls = privateUrlsAllowed(env.WEBHOOK_ALLOW_PRIVATE_URLS);
  const settle: Array<{ message: Message<unknown>; row: FinishedDelivery }> = [];
  await Promise.all(
    jobs.map(async ({ message, job }) => {
      if (done.has(job.id)) {
        message.ack(); // posted (or refused) before: a redelivery must not post again
        return;
      }
      const result = await postWebhook(signingKey, job.url, job.event, { ...options, allowPrivateUrls });
      const outcome = classifyAttempt(result);
      const base = { id: job.id, domain: job.domain, webhook: job.webhook, url: job.url, eventId: job.event.id, attempts: job.attempt };
      const last = { lastStatus: result.status ?? null, lastError: result.error ?? (outcome === "delivered" ? "" : (result.body ?? "")), finishedAt: now() };
      if (outcome === "retry") {
        const delaySeconds = webhookRetryDelay(job.attempt);
        if (delaySeconds !== null) {
          try {
            await env.WEBHOOKS.send({ ...job, attempt: job.attempt + 1 }, { contentType: "json", delaySeconds });
            message.ack();
          } catch (error) {
            console.error(JSON.stringify({ msg: "webhook retry could not be queued, retrying the message", id: job.id, error: String(error) }));
            message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
          }
          return;
        }
        settle.push({ message, row: { ...base, ...last, status: "failed", payload: job.event } });
        return;
      }
      settle.push({ message, row: { ...base, ...last, status: outcome, payload: null } });
    }),
  );

  let recorded = true;
  try {
    await recordDeliveries(env.DB, settle.map(({ row }) => row));
  } catch (error) {
    recorded = false;
    console.error(JSON.stringify({ msg: "webhook outcomes not recorded", error: String(error) }));
  }
  for (const { message, row } of settle) {
    // A delivered or refused post is acked even if the ledger write failed (posting again would be
    // the duplicate we promise not to make); a dead letter must be stored, so it is retried.
    if (row.status === "failed" && !recorded) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
}
