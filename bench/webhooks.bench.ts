// Figures for the webhooks part of issue 4, from one run (ratios, not absolute numbers, compare):
// deliveries/s from the webhooks consumer to a local receiver (packs of 100 events in batches of 3
// as wrangler.toml sets it, signing, the ledger lookup and write in local D1, real HTTP to
// 127.0.0.1, 6 posts at a time), against the same number of plain POSTs of the same payloads, 6 at
// a time too (no signature, no ledger).
import { expect, inject, it } from "vitest";
import { consumeWebhooks } from "../src/consumers/webhooks";
import { randomId } from "../src/domain/base64url";
import { MAX_QUEUE_BODY_BYTES } from "../src/domain/queue-messages";
import { packWebhookItems, type WebhookPack } from "../src/domain/webhook-packs";
import { webhookDeliveryId } from "../src/domain/webhooks";
import type { Env } from "../src/env";
import { benchEnv, median, report } from "./harness";

const DELIVERIES = 2000;
/** Packs per consumer batch (wrangler.toml) and posts at once (src/consumers/webhooks.ts). */
const BATCH = 3;
const AT_ONCE = 6;
const ROUNDS = 3;

function batchOf(bodies: WebhookPack[]) {
  let acked = 0;
  const messages = bodies.map((body) => ({ id: randomId(), timestamp: new Date(), attempts: 1, body, ack: () => void acked++, retry: () => {} }));
  return { batch: { queue: "tidings-webhooks", messages } as unknown as MessageBatch<unknown>, acked: () => acked };
}

async function deliveries(url: string) {
  return Promise.all(
    Array.from({ length: DELIVERIES }, async (_, i) => {
      const id = randomId();
      const event = {
        id,
        event: "opened",
        timestamp: Date.now() / 1000,
        recipient: `reader${i}@example.org`,
        tags: ["bench"],
        "user-variables": {},
        message: { headers: { "message-id": `m${i % 20}@bench` } },
      };
      return { ledgerId: await webhookDeliveryId(id, url), event };
    }),
  );
}

it("webhook deliveries/s to a local receiver", async () => {
  const url = `http://127.0.0.1:${inject("webhookReceiverPort")}/hook`;
  const env = { ...benchEnv, WEBHOOKS: { send: async () => {} } } as unknown as Env;
  const consumer: number[] = [];
  const plain: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const jobs = await deliveries(url);
    const packs = packWebhookItems(
      "bench-hooks.example.com",
      url,
      1,
      jobs.map((j) => ({ webhook: "opened" as const, event: j.event })),
      MAX_QUEUE_BODY_BYTES,
    );
    let start = performance.now();
    let acked = 0;
    for (let i = 0; i < packs.length; i += BATCH) {
      const { batch, acked: count } = batchOf(packs.slice(i, i + BATCH));
      await consumeWebhooks(batch, env);
      acked += count();
    }
    consumer.push(((performance.now() - start) / DELIVERIES) * 1000);
    expect(acked).toBe(packs.length);
    const stored = await benchEnv.DB.prepare(
      "SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'delivered' AND id IN (SELECT value FROM json_each(?))",
    )
      .bind(JSON.stringify(jobs.map((j) => j.ledgerId)))
      .first<{ n: number }>();
    expect(stored!.n).toBe(DELIVERIES);

    start = performance.now();
    for (let i = 0; i < jobs.length; i += AT_ONCE) {
      await Promise.all(
        jobs.slice(i, i + AT_ONCE).map(async (job) => {
          const response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ "event-data": job.event }),
          });
          await response.text();
        }),
      );
    }
    plain.push(((performance.now() - start) / DELIVERIES) * 1000);
  }
  const perSecond = (usPer: number) => (1_000_000 / usPer).toFixed(0);
  report("webhooks consumer, batches of 3 packs of 100 (deliveries/s, median of 3)", `${perSecond(median(consumer))}`);
  report(
    "plain POSTs, 6 at a time (posts/s, median of 3)",
    `${perSecond(median(plain))}  (consumer costs ${(median(consumer) / median(plain)).toFixed(2)}× a plain post)`,
  );
});
