// Fan-out: turns stored events into webhook deliveries, one queue message per event and URL, for
// the domains in a batch that have a webhook for the event's type (one D1 query per batch).
// Bindings: DB (webhooks), WEBHOOKS (the deliveries queue).
import { webhooksOfDomains } from "../db/webhooks";
import type { MailgunEvent } from "../domain/tracking-event";
import { webhookDeliveryId, webhookFor, type WebhookDelivery } from "../domain/webhooks";
import type { Env } from "../env";

/** Queues accept at most 100 messages and 256 KB per sendBatch; stay under both. */
const MAX_MESSAGES_PER_SEND = 100;
const MAX_BYTES_PER_SEND = 200_000;

export async function fanOutWebhooks(env: Pick<Env, "DB" | "WEBHOOKS">, events: Array<{ domain: string; event: MailgunEvent }>): Promise<number> {
  const firing = events.flatMap(({ domain, event }) => {
    const webhook = webhookFor(event);
    return webhook ? [{ domain, event, webhook }] : [];
  });
  if (firing.length === 0) return 0;
  const hooks = await webhooksOfDomains(env.DB, [...new Set(firing.map((f) => f.domain))]);
  const deliveries: WebhookDelivery[] = [];
  for (const { domain, event, webhook } of firing) {
    for (const url of hooks.get(domain)?.get(webhook) ?? []) {
      const eventData = event as unknown as WebhookDelivery["event"];
      deliveries.push({ type: "webhook", v: 1, id: await webhookDeliveryId(event.id, url), domain, webhook, url, attempt: 1, event: eventData });
    }
  }
  let chunk: MessageSendRequest<WebhookDelivery>[] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length > 0) await env.WEBHOOKS.sendBatch(chunk);
    chunk = [];
    bytes = 0;
  };
  for (const body of deliveries) {
    const size = JSON.stringify(body).length + 100;
    if (chunk.length === MAX_MESSAGES_PER_SEND || bytes + size > MAX_BYTES_PER_SEND) await flush();
    chunk.push({ body, contentType: "json" });
    bytes += size;
  }
  await flush();
  return deliveries.length;
}
