// Figures for the webhooks part of issue 4, from one run (ratios, not absolute numbers, compare):
// deliveries/s from the webhooks consumer to a local receiver (signing, the ledger lookup and
// write in local D1, real HTTP to 127.0.0.1), against the same number of plain POSTs of the same
// payloads with the same concurrency (no signature, no ledger).
import { expect, inject, it } from "vitest";
import { benchEnv, median, report } from "./harness";
import { consumeWebhooks } from "../src/consumers/webhooks";
import { randomId } from "../src/domain/base64url";
import { webhookDeliveryId, type WebhookDelivery } from "../src/domain/webhooks";
import type { Env } from "../src/env";

const DELIVERIES = 2000;
const BATCH = 50;
const ROUNDS = 3;

function batchOf(bodies: WebhookDelivery[]) {
  let acked = 0;
  const messages = bodies.map((body) => ({ id: randomId(), timestamp: new Date(), attempts: 1, body, ack: () => void acked++, retry: () => {} }));
  return { batch: { queue: "tidings-webhooks", messages } as unknown as MessageBatch<unknown>, acked: () => acked };
}

async function deliveries(url: string): Promise<WebhookDelivery[]> {
  return Promise.all(
    Array.from({ length: DELIVERIES }, async (_, i) => {
      const id = randomId();
      return {
        type: "webhook" as const, v: 1 as const, id: await webhookDeliveryId(id, url), domain: "bench-hooks.example.com", webhook: "opened" as const, url, attempt: 1,
        event: { id, event: "opened", timestamp: Date.now() / 1000, recipient: `reader${i}@example.org`, tags: ["bench"], "user-variables": {}, message: { headers: { "message-id": `m${i}@bench` } } },
      };
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
    let start = performance.now();
    let acked = 0;
    for (let i = 0; i < jobs.length; i += BATCH) {
      const { batch, acked: count } = batchOf(jobs.slice(i, i + BATCH));
      await consumeWebhooks(batch, env);
      acked += count();
    }
    consumer.push(((performance.now() - start) / DELIVERIES) * 1000);
    expect(acked).toBe(DELIVERIES);
    const stored = await benchEnv.DB.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'delivered' AND id IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(jobs.map((j) => j.id)))
      .first<{ n: number }>();
    expect(stored!.n).toBe(DELIVERIES);

    start = performance.now();
    for (let i = 0; i < jobs.length; i += BATCH) {
      await Promise.all(
        jobs.slice(i, i + BATCH).map(async (job) => {
          const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ "event-data": job.event }) });
          await response.text();
        }),
      );
    }
    plain.push(((performance.now() - start) / DELIVERIES) * 1000);
  }
  const perSecond = (usPer: number) => (1_000_000 / usPer).toFixed(0);
  report("webhooks consumer, batches of 50 (deliveries/s, median of 3)", `${perSecond(median(consumer))}`);
  report("plain POSTs, 50 at a time (posts/s, median of 3)", `${perSecond(median(plain))}  (consumer costs ${(median(consumer) / median(plain)).toFixed(2)}× a plain post)`);
});
