// Webhook fan-out in packs (issue 11, item 5): the events one URL is to receive travel up to 100
// in a queue message, each still POSTed alone, each with its own ledger entry, retry schedule and
// dead letter. The consumer is fed exactly what the fan-out queued, and the webhook messages are
// read here with the test's own merge, not the Worker's unpacking.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { consumeEvents } from "../../src/consumers/events";
import { consumeWebhooks } from "../../src/consumers/webhooks";
import { recordDeliveries } from "../../src/db/webhooks";
import { randomId } from "../../src/domain/base64url";
import { packEvents } from "../../src/domain/event-packs";
import { MAX_QUEUE_BODY_BYTES } from "../../src/domain/queue-messages";
import type { MailgunEvent } from "../../src/domain/tracking-event";
import type { Env } from "../../src/env";
import { api, createDomain, everyPartition, fakeQueueBatch, form, listEvents, recordingWebhooksEnv, uniqueDomain } from "../helpers";
import { deliveriesIn } from "../webhook-messages";

type Json = Record<string, any>;

/** A receiver recording each post; `fail(eventId)` decides which posts answer 500. */
function receiver(fail: (eventId: string, url: string) => boolean = () => false) {
  const posted: Array<{ url: string; event: Json }> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    try {
      const body = JSON.parse(String(init?.body)) as { "event-data": Json };
      posted.push({ url: String(input), event: body["event-data"] });
      await new Promise((resolve) => setTimeout(resolve, 1));
      return new Response("", { status: fail(body["event-data"].id, String(input)) ? 500 : 200 });
    } finally {
      inFlight--;
    }
  }) as typeof fetch;
  return { posted, fetch: fetchFn, mostInFlight: () => mostInFlight };
}

async function hook(domain: string, id: string, urls: string[]) {
  const body = new FormData();
  body.append("id", id);
  for (const url of urls) body.append("url", url);
  expect((await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body })).status).toBe(200);
}

/** `n` ready events of one message, as the Messages API makes them: a To header and recipient list of every address. */
function acceptedEvents(domain: string, n: number): MailgunEvent[] {
  const everyone = Array.from({ length: n }, (_, i) => `reader${i}@example.org`);
  const messageId = `${randomId()}@${domain}`;
  const now = Date.now() / 1000;
  return everyone.map((recipient, i) => ({
    id: randomId(),
    event: "accepted",
    timestamp: now + i / 1e6,
    "log-level": "info",
    recipient,
    "recipient-domain": "example.org",
    tags: ["launch"],
    "user-variables": { campaign: "spring" },
    campaigns: [],
    method: "http",
    message: {
      headers: { to: everyone.join(", ").slice(0, 900), from: `news@${domain}`, subject: "Hello", "message-id": messageId },
      recipients: everyone,
      size: 2000 + i,
    },
  })) as unknown as MailgunEvent[];
}

/**
 * Runs the events consumer on these events (in event packs), packs it sends back past its budget
 * included, and returns the webhook messages it queued.
 */
async function fanOut(domain: string, events: MailgunEvent[]) {
  const { env: recording, sent } = recordingWebhooksEnv();
  let bodies: unknown[] = packEvents(domain, events, MAX_QUEUE_BODY_BYTES);
  const later: unknown[] = [];
  const events_ = {
    async sendBatch(messages: Iterable<MessageSendRequest<unknown>>) {
      for (const m of messages) later.push(m.body);
    },
  };
  while (bodies.length > 0) {
    const { batch, outcomes } = fakeQueueBatch("tidings-events", bodies);
    await consumeEvents(batch, { ...recording, ...everyPartition("events", events_) } as unknown as Env);
    expect(outcomes.every((o) => o === "ack")).toBe(true);
    bodies = later.splice(0);
  }
  return sent;
}

/** Feeds webhook messages to the consumer 3 at a time (wrangler.toml's batch); returns what it queued again. */
async function consume(bodies: Json[], fetch: typeof globalThis.fetch) {
  const { env: recording, sent } = recordingWebhooksEnv();
  for (let i = 0; i < bodies.length; i += 3) {
    const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", bodies.slice(i, i + 3));
    await consumeWebhooks(batch, recording, { fetch });
    expect(outcomes.every((o) => o === "ack")).toBe(true);
  }
  return sent;
}

describe("webhook packs", () => {
  it("a fan-out of 1,000 events to 3 URLs is at most 30 queue messages, and each event is posted once per URL, also when redelivered", async () => {
    const domain = uniqueDomain("whk");
    await createDomain(domain);
    const urls = ["https://a.example.org/hook", "https://b.example.org/hook", "https://c.example.org/hook"];
    await hook(domain, "accepted", urls);
    const events = acceptedEvents(domain, 1000);

    const sent = await fanOut(domain, events);
    expect(sent.length).toBeLessThanOrEqual(30);
    expect(sent.every((s) => s.delaySeconds === undefined)).toBe(true);
    const asked = sent.flatMap((s) => deliveriesIn(s.body));
    expect(asked).toHaveLength(3000);
    expect(new Set(asked.map((a) => `${a.event.id} ${a.url}`)).size).toBe(3000);
    expect(asked.every((a) => a.webhook === "accepted" && a.attempt === 1)).toBe(true);

    const { posted, fetch } = receiver();
    expect(
      await consume(
        sent.map((s) => s.body),
        fetch,
      ),
    ).toEqual([]);
    expect(posted).toHaveLength(3000);
    expect(new Set(posted.map((p) => `${p.event.id} ${p.url}`)).size).toBe(3000);
    // event-data is the Events API item, recipient list and all.
    const { items } = await listEvents(domain, `event=accepted&recipient=${encodeURIComponent("reader7@example.org")}`);
    expect(items).toHaveLength(1);
    expect(posted.filter((p) => p.event.id === items[0]!.id).map((p) => p.event)).toEqual([items[0], items[0], items[0]]);

    // The queue delivers every pack again: nothing is posted twice.
    await consume(
      sent.map((s) => s.body),
      fetch,
    );
    expect(posted).toHaveLength(3000);
  });

  it("a pack whose posts partly fail queues only the failed events again, as one smaller pack on Mailgun's schedule", async () => {
    const domain = uniqueDomain("whk");
    await createDomain(domain);
    const url = "https://flaky.example.org/hook";
    await hook(domain, "accepted", [url]);
    const events = acceptedEvents(domain, 40);
    const failing = new Set(events.filter((_, i) => i % 10 === 3).map((e) => e.id));

    const sent = await fanOut(domain, events);
    expect(sent).toHaveLength(1);
    const first = receiver((id) => failing.has(id));
    const retries = await consume([sent[0]!.body], first.fetch);
    expect(first.posted).toHaveLength(40);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.delaySeconds).toBe(300);
    const again = deliveriesIn(retries[0]!.body);
    expect(new Set(again.map((a) => a.event.id))).toEqual(failing);
    expect(again.every((a) => a.attempt === 2 && a.url === url)).toBe(true);
    // The retried events are whole again, recipient list included.
    expect(again.every((a) => a.event.message.recipients.length === 40)).toBe(true);

    // The first pack redelivered (the queue's own retry) posts only what did not succeed.
    const second = receiver(() => false);
    expect(await consume([sent[0]!.body], second.fetch)).toEqual([]);
    expect(new Set(second.posted.map((p) => p.event.id))).toEqual(failing);
    // And the retry pack then posts nothing: every event of it is delivered by now.
    await consume([retries[0]!.body], second.fetch);
    expect(second.posted).toHaveLength(failing.size);
  });

  it("dead-letters per event after the last attempt; the others of the pack are delivered", async () => {
    const domain = uniqueDomain("whk");
    await createDomain(domain);
    const url = "https://dying.example.org/hook";
    await hook(domain, "accepted", [url]);
    const events = acceptedEvents(domain, 12);
    const failing = new Set([events[2]!.id, events[9]!.id]);
    let bodies = (await fanOut(domain, events)).map((s) => s.body);
    const delays: Array<number | undefined> = [];
    for (let attempt = 1; attempt <= 7; attempt++) {
      expect(bodies.flatMap(deliveriesIn).every((d) => d.attempt === attempt)).toBe(true);
      const retries = await consume(bodies, receiver((id) => attempt > 1 || failing.has(id)).fetch);
      delays.push(...retries.map((r) => r.delaySeconds));
      bodies = retries.map((r) => r.body);
      if (attempt === 1) expect(new Set(bodies.flatMap(deliveriesIn).map((d) => d.event.id))).toEqual(failing);
    }
    expect(bodies).toEqual([]);
    expect(delays).toEqual([300, 600, 900, 3600, 7200, 14400]);
    const dead = (await (await api(`/v3/domains/${domain}/webhooks/dead-letters`)).json()) as { items: Json[] };
    expect(new Set(dead.items.map((d) => d["event-id"]))).toEqual(failing);
    expect(dead.items.every((d) => d.attempts === 7 && d["last-status"] === 500 && d.url === url)).toBe(true);
    expect(dead.items.find((d) => d["event-id"] === events[2]!.id)!["event-data"].message.recipients).toHaveLength(12);
  });

  it("keeps at most 6 posts in flight, however many events the batch holds", async () => {
    const domain = uniqueDomain("whk");
    await createDomain(domain);
    await hook(domain, "accepted", ["https://a.example.org/pool", "https://b.example.org/pool"]);
    const sent = await fanOut(domain, acceptedEvents(domain, 150));
    const { posted, fetch, mostInFlight } = receiver();
    const { batch } = fakeQueueBatch(
      "tidings-webhooks",
      sent.map((s) => s.body),
    );
    await consumeWebhooks(batch, recordingWebhooksEnv().env, { fetch });
    expect(posted).toHaveLength(300);
    expect(mostInFlight()).toBe(6);
  });

  it("records a batch's dead letters however large their events, in statements cut by bytes", async () => {
    const domain = uniqueDomain("whk");
    await createDomain(domain);
    // 30 dead letters of 100 KB events: 3 MB, over what D1 takes in one value.
    const rows = Array.from({ length: 30 }, (_, i) => ({
      id: `${domain}-${i}`,
      domain,
      webhook: "delivered" as const,
      url: "https://a.example.org/",
      eventId: `e${i}`,
      status: "failed" as const,
      attempts: 7,
      lastStatus: 500,
      lastError: "",
      payload: { id: `e${i}`, event: "delivered", filler: "é".repeat(50_000) },
      finishedAt: Date.now(),
    }));
    await recordDeliveries(env.DB, rows);
    const dead = (await (await api(`/v3/domains/${domain}/webhooks/dead-letters?limit=100`)).json()) as { items: Json[] };
    expect(dead.items).toHaveLength(30);
    expect(dead.items.every((d) => d["event-data"].filler.length === 50_000)).toBe(true);
  });

  it("refuses a webhook URL longer than 2,048 bytes, which could not travel beside its events", async () => {
    const domain = uniqueDomain("whk");
    await createDomain(domain);
    const long = `https://hooks.example.org/${"x".repeat(2100)}`;
    const response = await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "opened", url: long }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/2048 bytes/);
    expect((await api(`/v3/domains/${domain}/webhooks/opened`)).status).toBe(404);
  });
});
