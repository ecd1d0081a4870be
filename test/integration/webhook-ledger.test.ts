// The webhook ledger follows the event into its shard (issue 12, "The store"): a finished delivery
// ('delivered', 'rejected') is recorded in, and checked against, the event shard of the event's
// domain and day, not the control database; dead letters stay in the control database; done rows
// written there before the change still stop a second post; an event past every retention is
// checked and recorded in the control database; emptying a slot empties its ledger.
// Rows are inspected below the API, in every shard, with the test's own SQL.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { consumeWebhooks } from "../../src/consumers/webhooks";
import { purgeExpired } from "../../src/cron/retention";
import { directory } from "../../src/db/shards";
import { randomId } from "../../src/domain/base64url";
import { dayOf, isShardBinding } from "../../src/domain/event-shards";
import { MAX_QUEUE_BODY_BYTES } from "../../src/domain/queue-messages";
import { packWebhookItems } from "../../src/domain/webhook-packs";
import { webhookDeliveryId } from "../../src/domain/webhooks";
import type { Env } from "../../src/env";
import { api, createDomain, fakeQueueBatch, recordingWebhooksEnv, uniqueDomain } from "../helpers";

const testEnv = env as unknown as Env;
const DAY = 86_400_000;
const URL_A = "https://receiver.example.org/ledger";

type Json = Record<string, any>;

/** A receiver recording each post's event id; `answer(eventId)` is its HTTP status (200 by default). */
function receiver(answer: (eventId: string) => number = () => 200) {
  const posted: string[] = [];
  const fetchFn = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    const id = (JSON.parse(String(init?.body)) as { "event-data": Json })["event-data"].id as string;
    posted.push(id);
    return new Response("", { status: answer(id) });
  }) as typeof fetch;
  return { posted, fetch: fetchFn };
}

/** An opened event of `domain` that happened at `ms`. */
const opened = (ms: number, id = randomId()) => ({ id, event: "opened", timestamp: ms / 1000, recipient: "reader@example.org" });

/** The webhooks queue message carrying these events to `url` (one pack, as the fan-out makes it). */
function packOf(domain: string, events: Json[], url = URL_A, attempt = 1) {
  const packs = packWebhookItems(
    domain,
    url,
    attempt,
    events.map((event) => ({ webhook: "opened" as const, event })),
    MAX_QUEUE_BODY_BYTES,
  );
  expect(packs).toHaveLength(1);
  return packs[0]!;
}

const ledgerId = (event: Json, url = URL_A) => webhookDeliveryId(event.id, url);

/** Where each id is recorded: shard binding names holding it in webhook_ledger, and "DB:<status>" for the control database's webhook_deliveries. */
async function holders(ids: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>(ids.map((id) => [id, []]));
  const json = JSON.stringify(ids);
  const shards = Object.entries(testEnv).filter(([name]) => isShardBinding(name)) as Array<[string, D1Database]>;
  await Promise.all(
    shards.map(async ([name, db]) => {
      const { results } = await db.prepare("SELECT id FROM webhook_ledger WHERE id IN (SELECT value FROM json_each(?1))").bind(json).all<{ id: string }>();
      for (const { id } of results) found.get(id)!.push(name);
    }),
  );
  const { results } = await testEnv.DB.prepare("SELECT id, status FROM webhook_deliveries WHERE id IN (SELECT value FROM json_each(?1))")
    .bind(json)
    .all<{ id: string; status: string }>();
  for (const { id, status } of results) found.get(id)!.push(`DB:${status}`);
  return found;
}

/** The shard holding a domain's events of the moment `ms`. */
const shardOf = async (domain: string, ms: number) => (await directory(testEnv)).nameFor(domain, dayOf(ms * 1000));

describe("webhook ledger in the event shards", () => {
  it("posts each event of a redelivered pack once, its events on different days and shards", async () => {
    const domain = uniqueDomain("wlr");
    await createDomain(domain);
    const now = Date.now();
    const events = [opened(now), opened(now - DAY), opened(now - 20 * DAY), opened(now - 20 * DAY + 1)];
    const shards = new Set(await Promise.all(events.map((e) => shardOf(domain, e.timestamp * 1000))));
    expect(shards.size).toBe(3);
    const { posted, fetch } = receiver();
    const pack = packOf(domain, events);
    for (let i = 0; i < 3; i++) {
      const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", [pack, pack]);
      await consumeWebhooks(batch, recordingWebhooksEnv().env, { fetch });
      expect(outcomes).toEqual(["ack", "ack"]);
    }
    expect(posted.sort()).toEqual(events.map((e) => e.id).sort());
  });

  it("records a delivered and a rejected post in the shard of its event's domain and day, and nothing in the control database", async () => {
    const domain = uniqueDomain("wls");
    await createDomain(domain);
    const now = Date.now();
    const events = [opened(now - 2 * DAY), opened(now - 9 * DAY), opened(now - 9 * DAY + 5)];
    const refused = events[2]!.id;
    const { fetch } = receiver((id) => (id === refused ? 406 : 200));
    const finishedAt = now + 1234;
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [packOf(domain, events)]).batch, recordingWebhooksEnv().env, { fetch, now: () => finishedAt });
    const ids = await Promise.all(events.map((e) => ledgerId(e)));
    const found = await holders(ids);
    for (const [i, event] of events.entries()) expect(found.get(ids[i]!)).toEqual([await shardOf(domain, event.timestamp * 1000)]);
    const shard = (testEnv as unknown as Record<string, D1Database>)[await shardOf(domain, events[1]!.timestamp * 1000)]!;
    const { results } = await shard
      .prepare("SELECT id, rejected, finished_at FROM webhook_ledger WHERE id IN (?1, ?2) ORDER BY rejected")
      .bind(ids[1], ids[2])
      .all();
    expect(results).toEqual([
      { id: ids[1], rejected: 0, finished_at: finishedAt },
      { id: ids[2], rejected: 1, finished_at: finishedAt },
    ]);
  });

  it("keeps dead letters in the control database, listed for the domain, and nothing of them in the shards", async () => {
    const domain = uniqueDomain("wld");
    await createDomain(domain);
    const event = opened(Date.now() - DAY);
    const { posted, fetch } = receiver(() => 500);
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [packOf(domain, [event], URL_A, 7)]).batch, recordingWebhooksEnv().env, { fetch });
    expect(posted).toEqual([event.id]);
    const id = await ledgerId(event);
    expect((await holders([id])).get(id)).toEqual(["DB:failed"]);
    const dead = (await (await api(`/v3/domains/${domain}/webhooks/dead-letters`)).json()) as { items: Json[] };
    expect(dead.items.map((item) => [item.id, item["event-data"]])).toEqual([[id, event]]);
    // Replayed and delivered: the success goes to the event's shard; a redelivery of the replay posts nothing.
    const { fetch: ok, posted: again } = receiver();
    const replay = packOf(domain, [event]);
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [replay]).batch, recordingWebhooksEnv().env, { fetch: ok });
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [replay]).batch, recordingWebhooksEnv().env, { fetch: ok });
    expect(again).toEqual([event.id]);
    expect((await holders([id])).get(id)).toEqual([await shardOf(domain, event.timestamp * 1000), "DB:failed"]);
  });

  it("finds a delivery done by a row the control database kept from before the change (the upgrade window)", async () => {
    const domain = uniqueDomain("wlu");
    await createDomain(domain);
    const event = opened(Date.now() - 3_600_000);
    const id = await ledgerId(event);
    // The row as the ledger wrote it before it moved into the shards.
    await testEnv.DB.prepare(
      `INSERT INTO webhook_deliveries (id, domain, webhook, url, event_id, status, attempts, last_status, last_error, payload, finished_at)
       VALUES (?1, ?2, 'opened', ?3, ?4, 'delivered', 1, 200, '', NULL, ?5)`,
    )
      .bind(id, domain, URL_A, event.id, Date.now() - 60_000)
      .run();
    const { posted, fetch } = receiver();
    const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", [packOf(domain, [event])]);
    await consumeWebhooks(batch, recordingWebhooksEnv().env, { fetch });
    expect(outcomes).toEqual(["ack"]);
    expect(posted).toEqual([]);
    expect((await holders([id])).get(id)).toEqual(["DB:delivered"]);
  });

  it("checks and records an event past every retention in the control database, so it too is posted once", async () => {
    const domain = uniqueDomain("wlo");
    await createDomain(domain);
    const events = [opened(Date.now() - 40 * DAY), { ...opened(0), timestamp: "not a time" }, (({ timestamp: _, ...rest }) => rest)(opened(0))];
    const { posted, fetch } = receiver();
    const pack = packOf(domain, events);
    for (let i = 0; i < 2; i++) {
      const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", [pack]);
      await consumeWebhooks(batch, recordingWebhooksEnv().env, { fetch });
      expect(outcomes).toEqual(["ack"]);
    }
    expect(posted.sort()).toEqual(events.map((e) => e.id).sort());
    const ids = await Promise.all(events.map((e) => ledgerId(e)));
    expect([...(await holders(ids)).values()]).toEqual([["DB:delivered"], ["DB:delivered"], ["DB:delivered"]]);
  });

  it("still finds a delivery recorded in its event's shard once the event is past every retention", async () => {
    const domain = uniqueDomain("wlb");
    await createDomain(domain);
    const event = opened(Date.now() - 29 * DAY);
    const { posted, fetch } = receiver();
    const pack = packOf(domain, [event]);
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [pack]).batch, recordingWebhooksEnv().env, { fetch });
    const id = await ledgerId(event);
    expect((await holders([id])).get(id)).toEqual([await shardOf(domain, event.timestamp * 1000)]);
    // Redelivered two days later, when its day is past every retention: found in the shard, not posted.
    const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", [pack]);
    await consumeWebhooks(batch, recordingWebhooksEnv().env, { fetch, now: () => Date.now() + 2 * DAY });
    expect(outcomes).toEqual(["ack"]);
    expect(posted).toEqual([event.id]);
  });

  it("is emptied with its slot: the rows of the slot's expired day go, a late replay's recent row and other days' rows stay", async () => {
    const domain = uniqueDomain("wle");
    await createDomain(domain);
    // 26 days back: a day no other test writes, so emptying its slot touches only this file's rows.
    const then = Date.now() - 26 * DAY;
    const old = [opened(then), opened(then + 1)];
    const { fetch } = receiver();
    // Delivered a minute after they happened.
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [packOf(domain, old)]).batch, recordingWebhooksEnv().env, { fetch, now: () => then + 60_000 });
    // An event of the same day delivered today (a dead letter replayed late), and one of yesterday.
    const late = opened(then + 2);
    const recent = opened(Date.now() - DAY);
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [packOf(domain, [late, recent])]).batch, recordingWebhooksEnv().env, { fetch });
    const ids = await Promise.all([...old, late, recent].map((e) => ledgerId(e)));
    const slotShard = await shardOf(domain, then);
    expect((await holders(ids)).get(ids[0]!)).toEqual([slotShard]);

    // The day the ring comes round to that slot, in chunks of one row: it takes several statements.
    for (let run = 0; run < 20 && (await purgeExpired(testEnv, then + 31 * DAY, 100, 1)).unfinished; run++);
    const after = await holders(ids);
    expect(ids.map((id) => after.get(id))).toEqual([[], [], [slotShard], [await shardOf(domain, recent.timestamp * 1000)]]);
  });
});
