// The events and webhooks queues partitioned by domain hash (wrangler.toml: 2 of each here): every
// producer sends a domain's messages to its domain's partition (inbound mail: inbound-email.test.ts), a list mixing domains is split by
// partition, and every partition's queue reaches its consumer.
import { createExecutionContext, createMessageBatch, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sendBack } from "../../src/consumers/event-budget";
import type { Parsed } from "../../src/consumers/events";
import { fanOutWebhooks } from "../../src/consumers/webhook-fanout";
import { consumeWebhooks } from "../../src/consumers/webhooks";
import { randomId } from "../../src/domain/base64url";
import { type PartitionedQueue, partitionBinding, partitionOf } from "../../src/domain/queue-partitions";
import { signToken } from "../../src/domain/token";
import type { MailgunEvent } from "../../src/domain/tracking-event";
import { packWebhookItems } from "../../src/domain/webhook-packs";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import {
  apiWith,
  createDomain,
  domainInPartition,
  fakeQueueBatch,
  form,
  partitionCount,
  runQueueBatch,
  scriptedRelay,
  storedEvents,
  unpackEventMessages,
} from "../helpers";

const testEnv = env as unknown as Env;

/** Recorders for every partition of `queue`: `sent[i]` holds the bodies partition i was sent. */
function recorders(queue: PartitionedQueue) {
  const sent: unknown[][] = [];
  const bindings: Record<string, unknown> = {};
  for (let i = 0; i < partitionCount(queue); i++) {
    const mine: unknown[] = [];
    sent.push(mine);
    bindings[partitionBinding(queue, i)] = {
      send: async (body: unknown) => void mine.push(body),
      sendBatch: async (messages: Array<{ body: unknown }>) => void mine.push(...messages.map((m) => m.body)),
    };
  }
  return { bindings, sent };
}

const domainsOf = (bodies: unknown[]) => [...new Set(bodies.map((body) => (body as { domain: string }).domain))];

describe("queue partitions", () => {
  it("run with two partitions of each queue here, and partition 0 keeps the original bindings", () => {
    expect(partitionCount("events")).toBe(2);
    expect(partitionCount("webhooks")).toBe(2);
    expect(partitionBinding("events", 0)).toBe("EVENTS");
    expect(partitionBinding("webhooks", 1)).toBe("WEBHOOKS_1");
  });

  it("the tracking edge sends each hit to its domain's partition", async () => {
    const { bindings, sent } = recorders("events");
    const edgeEnv = { ...testEnv, ...bindings } as Env;
    const domains = [domainInPartition(0, "edge"), domainInPartition(1, "edge")];
    for (const domain of domains) {
      const token = await signToken(
        {
          kind: "open",
          version: 1,
          issuedAt: Math.floor(Date.now() / 1000) - 60,
          webPrefix: "email",
          domain,
          messageId: `m@${domain}`,
          recipient: "r@example.org",
          url: "",
        },
        "test-tracking-secret",
      );
      const ctx = createExecutionContext();
      const response = await worker.fetch(new Request(`http://127.0.0.1/o/${token}`) as Request<unknown, IncomingRequestCfProperties>, edgeEnv, ctx);
      await waitOnExecutionContext(ctx);
      expect(response.status).toBe(200);
    }
    expect(sent.map(domainsOf)).toEqual([[domains[0]], [domains[1]]]);
  });

  it("the send path queues a message's accepted and delivered events on its domain's partition", async () => {
    const domain = domainInPartition(1, "sendpath");
    await createDomain(domain);
    const jobs: unknown[] = [];
    const apiEnv = { ...testEnv, DELIVERY: { sendBatch: async (bs: Array<{ body: unknown }>) => void jobs.push(...bs.map((m) => m.body)) } } as unknown as Env;
    const body = form({ from: `Sender <me@${domain}>`, to: `reader-${randomId().slice(0, 6)}@example.org`, subject: "Partitioned", text: "Hi" });
    expect((await apiWith(apiEnv, `/v3/${domain}/messages`, { method: "POST", body })).status).toBe(200);
    const { bindings, sent } = recorders("events");
    const deliveryEnv = { ...testEnv, ...scriptedRelay(), DELIVERY: apiEnv.DELIVERY, ...bindings } as Env;
    const { result } = await runQueueBatch("tidings-delivery", jobs, deliveryEnv);
    expect(result.retryMessages).toEqual([]);
    expect(sent[0]).toEqual([]);
    expect(domainsOf(sent[1]!)).toEqual([domain]);
    const kinds = unpackEventMessages(sent[1]!).map((m) => m.event.event);
    expect(kinds.sort()).toEqual(["accepted", "delivered"]);
  });

  it("a replayed webhook dead letter is queued on its domain's partition", async () => {
    const domain = domainInPartition(1, "replay");
    await createDomain(domain);
    const eventId = randomId();
    const url = "https://receiver.example.org/dead";
    const [pack] = packWebhookItems(
      domain,
      url,
      7,
      [{ webhook: "opened", event: { id: eventId, event: "opened", timestamp: Date.now() / 1000, recipient: "r@example.org" } }],
      100_000,
    );
    // The last attempt fails: a dead letter.
    const { bindings, sent } = recorders("webhooks");
    const replayEnv = { ...testEnv, ...bindings } as Env;
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks-1", [pack]).batch, replayEnv, { fetch: async () => new Response("no", { status: 500 }) });
    expect(sent.flat()).toEqual([]);
    const listed = (await (await apiWith(replayEnv, `/v3/domains/${domain}/webhooks/dead-letters`)).json()) as { items: Array<{ id: string }> };
    expect(listed.items).toHaveLength(1);
    const replay = await apiWith(replayEnv, `/v3/domains/${domain}/webhooks/dead-letters/${listed.items[0]!.id}/replay`, { method: "POST" });
    expect(replay.status).toBe(200);
    expect(sent[0]).toEqual([]);
    expect(domainsOf(sent[1]!)).toEqual([domain]);
  });

  it("webhook fan-out splits a batch's packs of many domains by partition", async () => {
    const { bindings, sent } = recorders("webhooks");
    const domains = [domainInPartition(1, "fan"), domainInPartition(0, "fan"), domainInPartition(1, "fan")];
    const events = domains.map((domain, i) => ({
      domain,
      event: { id: `fan-${randomId()}`, event: "delivered", timestamp: Date.now() / 1000 + i, recipient: "r@example.org" } as unknown as MailgunEvent,
    }));
    const hooks = new Map(domains.map((domain) => [domain, new Map([["delivered" as const, ["https://receiver.example.org/hook"]]])]));
    expect(await fanOutWebhooks({ ...testEnv, ...bindings } as Env, events, hooks)).toBe(3);
    expect(sent.map((bodies) => domainsOf(bodies).sort())).toEqual([[domains[1]], [domains[0], domains[2]].sort()]);
  });

  it("webhook retries go back to the domain's partition", async () => {
    const domain = domainInPartition(1, "whretry");
    const [pack] = packWebhookItems(
      domain,
      "https://receiver.example.org/retry",
      1,
      [{ webhook: "delivered", event: { id: `r-${randomId()}`, event: "delivered", timestamp: Date.now() / 1000, recipient: "r@example.org" } }],
      100_000,
    );
    const { bindings, sent } = recorders("webhooks");
    const { batch, outcomes } = fakeQueueBatch("tidings-webhooks-1", [pack]);
    await consumeWebhooks(batch, { ...testEnv, ...bindings } as Env, { fetch: async () => new Response("no", { status: 503 }) });
    expect(outcomes).toEqual(["ack"]);
    expect(sent[0]).toEqual([]);
    expect(domainsOf(sent[1]!)).toEqual([domain]);
  });

  it("packs past the events consumer's budget go back to their domains' partitions", async () => {
    const { bindings, sent } = recorders("events");
    const domains = [domainInPartition(0, "budget"), domainInPartition(1, "budget")];
    const later = domains.map((domain) => {
      let acked = false;
      const message = { body: { type: "events", v: 1, domain, common: {}, events: [{}] }, ack: () => void (acked = true), retry: () => {} };
      return { item: { message, items: [] } as unknown as Parsed, acked: () => acked };
    });
    await sendBack({ ...testEnv, ...bindings } as Env, [later[1]!.item, later[0]!.item]);
    expect(sent.map(domainsOf)).toEqual([[domains[0]], [domains[1]]]);
    expect(later.map((l) => l.acked())).toEqual([true, true]);
  });

  it("every partition's queue reaches its consumer; an unknown queue still fails loudly", async () => {
    for (const queue of ["tidings-events", "tidings-events-1"]) {
      const domain = domainInPartition(queue === "tidings-events" ? 0 : 1, "consume");
      const hit = {
        type: "hit",
        v: 1,
        event: "opened",
        ts: Date.now() * 1000,
        domain,
        messageId: `m@${domain}`,
        recipient: "r@example.org",
        url: "",
        issuedAt: Math.floor(Date.now() / 1000),
        method: "GET",
        ip: "192.0.2.1",
        userAgent: "Mozilla/5.0",
        cf: {},
      };
      const batch = createMessageBatch(queue, [{ id: randomId(), timestamp: new Date(), attempts: 1, body: hit }]);
      const ctx = createExecutionContext();
      await worker.queue(batch, testEnv, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.retryMessages).toEqual([]);
      expect((await storedEvents(domain)).map((row) => row.event)).toEqual(["opened"]);
    }
    // A webhooks partition gets the webhooks consumer: a malformed pack is dead-lettered, not crashed on.
    const parked: unknown[] = [];
    const dlqEnv = { ...testEnv, EVENTS_DLQ: { send: async (body: unknown) => void parked.push(body) } } as unknown as Env;
    const webhooks = createMessageBatch("tidings-webhooks-1", [{ id: randomId(), timestamp: new Date(), attempts: 1, body: { type: "webhook", url: 1 } }]);
    await worker.queue(webhooks, dlqEnv, createExecutionContext());
    expect(parked).toEqual([expect.objectContaining({ queue: "tidings-webhooks-1", reason: expect.stringContaining("malformed") })]);
    for (const queue of ["tidings-events-x", "tidings-delivery-1", "tidings-events-0", "constructor"]) {
      const batch = createMessageBatch(queue, [{ id: randomId(), timestamp: new Date(), attempts: 1, body: {} }]);
      await expect(worker.queue(batch, testEnv, createExecutionContext())).rejects.toThrow(`no consumer for queue ${queue}`);
    }
  });

  it("the partition is the domain hash modulo the count", () => {
    const domain = domainInPartition(1);
    expect(partitionOf(domain, 2)).toBe(1);
  });
});
