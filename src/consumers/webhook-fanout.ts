// Fan-out: turns stored events into webhook deliveries for the domains in a batch that have a
// webhook for the event's type (one D1 query per batch), packed per domain and URL: up to 100
// events in one queue message (src/domain/webhook-packs.ts), so a 1,000-recipient send with
// accepted and delivered webhooks on 3 URLs is a few dozen webhook messages, not 6,000.
// Bindings: DB (webhooks), the webhooks queue's producers (WEBHOOKS, WEBHOOKS_<i>: a batch's packs
// of many domains are split by their domains' partitions).
import { sendPartitioned } from "../db/queue-partitions";
import { type WebhookUrls, webhooksOfDomains } from "../db/webhooks";
import { MAX_QUEUE_BODY_BYTES } from "../domain/queue-messages";
import type { MailgunEvent } from "../domain/tracking-event";
import { packWebhookItems, type WebhookItem, type WebhookPack } from "../domain/webhook-packs";
import { webhookFor } from "../domain/webhooks";
import type { Env } from "../env";

/** The packs for these events: one list of items per domain and URL, packed. Pure but for the lookup. */
export function webhookPacksOf(events: Array<{ domain: string; event: MailgunEvent }>, hooks: Map<string, WebhookUrls>): WebhookPack[] {
  const byTarget = new Map<string, { domain: string; url: string; items: WebhookItem[] }>();
  for (const { domain, event } of events) {
    const webhook = webhookFor(event);
    if (!webhook) continue;
    for (const url of hooks.get(domain)?.get(webhook) ?? []) {
      const key = JSON.stringify([domain, url]);
      let target = byTarget.get(key);
      if (!target) byTarget.set(key, (target = { domain, url, items: [] }));
      target.items.push({ webhook, event: event as unknown as Record<string, unknown> });
    }
  }
  return [...byTarget.values()].flatMap(({ domain, url, items }) => packWebhookItems(domain, url, 1, items, MAX_QUEUE_BODY_BYTES));
}

/**
 * Queues the webhook packs of these events; returns how many queue messages that was. `known`:
 * the webhooks of (at least) these events' domains, when the caller has looked them up already.
 */
export async function fanOutWebhooks(
  env: Pick<Env, "DB" | "WEBHOOKS">,
  events: Array<{ domain: string; event: MailgunEvent }>,
  known?: Map<string, WebhookUrls>,
): Promise<number> {
  const firing = events.filter(({ event }) => webhookFor(event) !== null);
  if (firing.length === 0) return 0;
  const hooks = known ?? (await webhooksOfDomains(env.DB, [...new Set(firing.map((f) => f.domain))]));
  const packs = webhookPacksOf(firing, hooks);
  await sendPartitioned(
    env,
    "webhooks",
    packs.map((body) => ({ domain: body.domain, body })),
  );
  return packs.length;
}
