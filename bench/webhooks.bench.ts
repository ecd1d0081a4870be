// Figures for the webhooks part of issue 4, from one run (ratios, not absolute numbers, compare):
// deliveries/s from the webhooks consumer to a local receiver (packs of 100 events in batches of 3
// as wrangler.toml sets it, signing, the ledger lookup and write in local D1, real HTTP to
// 127.0.0.1, 6 posts at a time), against the same number of plain POSTs of the same payloads, 6 at
// a time too (no signature, no ledger). And the bytes a finished delivery costs in the ledger of its
// event's shard, against the control database's row the ledger wrote before it moved there.
import { expect, inject, it } from "vitest";
import { consumeWebhooks } from "../src/consumers/webhooks";
import { type LedgerDelivery, recordFinishedDeliveries } from "../src/db/delivery-ledger";
import { recordDeliveries } from "../src/db/webhooks";
import { randomId } from "../src/domain/base64url";
import { isShardBinding } from "../src/domain/event-shards";
import { MAX_QUEUE_BODY_BYTES } from "../src/domain/queue-messages";
import { packWebhookItems, type WebhookPack } from "../src/domain/webhook-packs";
import { webhookDeliveryId } from "../src/domain/webhooks";
import type { Env } from "../src/env";
import { partitionsAs } from "../test/support/partitions";
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

/** How many of these ids the event shards' ledgers hold (done deliveries), summed over every shard. */
async function ledgerRows(ids: string[]): Promise<number> {
  const json = JSON.stringify(ids);
  const counts = await Promise.all(
    Object.entries(benchEnv)
      .filter(([name]) => isShardBinding(name))
      .map(
        async ([, db]) =>
          (await (db as D1Database)
            .prepare("SELECT count(*) AS n FROM webhook_ledger WHERE id IN (SELECT value FROM json_each(?1))")
            .bind(json)
            .first<{ n: number }>())!.n,
      ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

it("webhook deliveries/s to a local receiver", async () => {
  const url = `http://127.0.0.1:${inject("webhookReceiverPort")}/hook`;
  const env = { ...benchEnv, ...partitionsAs(benchEnv, "webhooks", { send: async () => {} }) } as unknown as Env;
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
    expect(await ledgerRows(jobs.map((j) => j.ledgerId))).toBe(DELIVERIES);

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

/** Deliveries recorded for the bytes figure: enough pages that one page more or less does not show. */
const LEDGER_ROWS = 100_000;

const sizeOf = async (db: D1Database) => ((await db.prepare("SELECT 1").run()).meta as { size_after: number }).size_after;

it("webhook ledger bytes per finished delivery: the event's shard against the control database", async () => {
  const domain = "bench-ledger.example.com";
  const url = "https://hooks.example.org/mailgun/events?source=tidings&account=42";
  // One day 12 days back: one shard, which no earlier bench file writes.
  const eventSeconds = (Date.now() - 12 * 86_400_000) / 1000;
  const finishedAt = Date.now();
  const rows: LedgerDelivery[] = Array.from({ length: LEDGER_ROWS }, (_, i) => ({
    id: randomId(),
    domain,
    webhook: "delivered",
    url,
    eventId: randomId(),
    eventTimestamp: eventSeconds + i / 1e3,
    status: "delivered",
    attempts: 1,
    lastStatus: 200,
    lastError: "",
    payload: null,
    finishedAt: finishedAt + i,
  }));
  const shards = Object.entries(benchEnv).filter(([name]) => isShardBinding(name)) as Array<[string, D1Database]>;
  const shardBytes = async () => (await Promise.all(shards.map(([, db]) => sizeOf(db)))).reduce((a, b) => a + b, 0);
  const PER_CALL = 1000; // a consumer batch records at most 300
  let before = await shardBytes();
  for (let i = 0; i < rows.length; i += PER_CALL) await recordFinishedDeliveries(benchEnv, rows.slice(i, i + PER_CALL));
  const inShard = (await shardBytes()) - before;
  expect(await ledgerRows(rows.slice(0, 1000).map((r) => r.id))).toBe(1000);
  // The same deliveries as the control database's row (what every delivery wrote before), other ids.
  const legacy = rows.map((row) => ({ ...row, id: randomId() }));
  before = await sizeOf(benchEnv.DB);
  for (let i = 0; i < legacy.length; i += PER_CALL) await recordDeliveries(benchEnv.DB, legacy.slice(i, i + PER_CALL));
  const inControl = (await sizeOf(benchEnv.DB)) - before;
  report(
    `webhook ledger, bytes per delivery (${LEDGER_ROWS.toLocaleString("en")} rows, D1 size_after)`,
    `shard ${(inShard / LEDGER_ROWS).toFixed(1)}  control database before ${(inControl / LEDGER_ROWS).toFixed(1)}  (${(inControl / inShard).toFixed(1)}× smaller)`,
  );
});
