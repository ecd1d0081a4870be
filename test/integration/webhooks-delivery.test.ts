// The webhooks pipeline: fan-out from the events consumer, and the webhooks consumer's signed
// posts with Mailgun's outcomes (2xx, 406, other statuses, timeouts, network errors), the retry
// schedule, the dead-letter list, and no second post after a success when the queue redelivers.
// Most cases here feed one-event messages (v1, still consumed); packs are in webhook-packs.test.ts.
// Receivers are injected fetch functions; the signature is checked with node:crypto, not with the
// Worker's own code.

import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { consumeEvents } from "../../src/consumers/events";
import { consumeWebhooks } from "../../src/consumers/webhooks";
import { purgeWebhookLedger } from "../../src/cron/webhook-ledger";
import { recordDeliveries } from "../../src/db/webhooks";
import { randomId } from "../../src/domain/base64url";
import { type WebhookDelivery, type WebhookJob, webhookDeliveryId } from "../../src/domain/webhooks";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { api, createDomain, everyPartition, fakeQueueBatch, form, listEvents, recordingWebhooksEnv, uniqueDomain, waitFor } from "../helpers";
import { deliveriesIn } from "../webhook-messages";

interface Posted {
  url: string;
  redirect: RequestInit["redirect"];
  body: { signature: { timestamp: string; token: string; signature: string }; "event-data": Record<string, unknown> };
}

/** A receiver that answers each post with the next status of a script (or throws / hangs). */
function receiver(script: Array<number | "hang" | "throw">) {
  const posted: Posted[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    posted.push({ url: String(input), redirect: init?.redirect, body: JSON.parse(String(init?.body)) });
    const step = script[Math.min(posted.length - 1, script.length - 1)]!;
    if (step === "throw") throw new TypeError("connect ECONNREFUSED");
    if (step === "hang") {
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
    }
    return new Response(step === 200 ? "ok" : `status ${step}`, { status: step });
  }) as typeof fetch;
  return { posted, fetch: fetchFn };
}

async function delivery(domain: string, url: string, attempt = 1, eventId = randomId()): Promise<WebhookDelivery> {
  return {
    type: "webhook",
    v: 1,
    id: await webhookDeliveryId(eventId, url),
    domain,
    webhook: "opened",
    url,
    attempt,
    event: { id: eventId, event: "opened", timestamp: 1_700_000_000.5, recipient: "alice@example.com" },
  };
}

const signingKey = async () => ((await (await api("/v5/accounts/http_signing_key")).json()) as { http_signing_key: string }).http_signing_key;

describe("webhooks consumer", () => {
  it("posts the signed payload; a receiver checking with node:crypto accepts it", async () => {
    const domain = uniqueDomain("whc");
    await createDomain(domain);
    const job = await delivery(domain, "https://receiver.example.org/hook");
    const { posted, fetch } = receiver([200]);
    const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", [job]);
    const before = Math.floor(Date.now() / 1000);
    await consumeWebhooks(batch, recordingWebhooksEnv<WebhookJob>().env, { fetch });
    expect(outcomes).toEqual(["ack"]);
    expect(posted).toHaveLength(1);
    const { signature, "event-data": eventData } = posted[0]!.body;
    expect(eventData).toEqual(job.event);
    expect(signature.token).toMatch(/^[0-9a-f]{50}$/);
    expect(Number(signature.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(signature.timestamp)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const expected = createHmac("sha256", await signingKey())
      .update(signature.timestamp + signature.token)
      .digest("hex");
    expect(signature.signature).toBe(expected);
    // A forged one would not pass the same check.
    expect(
      createHmac("sha256", "key-wrong")
        .update(signature.timestamp + signature.token)
        .digest("hex"),
    ).not.toBe(signature.signature);
  });

  it("never posts twice to one URL after a success, also when the queue redelivers", async () => {
    const domain = uniqueDomain("whc");
    await createDomain(domain);
    const job = await delivery(domain, "https://receiver.example.org/once");
    const { posted, fetch } = receiver([200]);
    for (let i = 0; i < 3; i++) {
      const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", [job]);
      await consumeWebhooks(batch, recordingWebhooksEnv<WebhookJob>().env, { fetch });
      expect(outcomes).toEqual(["ack"]);
    }
    expect(posted).toHaveLength(1);
  });

  it("406 stops at once; nothing is queued again and nothing is dead-lettered", async () => {
    const domain = uniqueDomain("whc");
    await createDomain(domain);
    const job = await delivery(domain, "https://receiver.example.org/refuse");
    const { posted, fetch } = receiver([406]);
    const { env: recording, sent } = recordingWebhooksEnv<WebhookJob>();
    const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", [job]);
    await consumeWebhooks(batch, recording, { fetch });
    expect(outcomes).toEqual(["ack"]);
    expect(sent).toEqual([]);
    // A redelivery of a refused post is not posted again either.
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [job]).batch, recording, { fetch });
    expect(posted).toHaveLength(1);
    expect(((await (await api(`/v3/domains/${domain}/webhooks/dead-letters`)).json()) as { items: unknown[] }).items).toEqual([]);
  });

  it("refuses a URL whose host is not public at delivery time, as final as a 406, without posting", async () => {
    const domain = uniqueDomain("whc");
    await createDomain(domain);
    const { env: recording, sent } = recordingWebhooksEnv<WebhookJob>();
    const strict = { ...recording, WEBHOOK_ALLOW_PRIVATE_URLS: "" };
    const allowing = { ...recording, WEBHOOK_ALLOW_PRIVATE_URLS: "true" };
    const { posted, fetch } = receiver([200]);
    // Stored before the rule existed, or while the setting allowed it.
    const job = await delivery(domain, "http://169.254.169.254/latest/meta-data/");
    const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", [job]);
    await consumeWebhooks(batch, strict, { fetch });
    expect(outcomes).toEqual(["ack"]);
    expect(posted).toEqual([]);
    expect(sent).toEqual([]); // not retried
    expect(((await (await api(`/v3/domains/${domain}/webhooks/dead-letters`)).json()) as { items: unknown[] }).items).toEqual([]);
    // Recorded as finished: a redelivery posts nothing, even with the setting on by then.
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [job]).batch, allowing, { fetch });
    expect(posted).toEqual([]);
    // With the setting on, the next event to that URL is posted.
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [await delivery(domain, "http://169.254.169.254/latest/meta-data/")]).batch, allowing, { fetch });
    expect(posted.map((p) => p.url)).toEqual(["http://169.254.169.254/latest/meta-data/"]);
  });

  it("never follows a redirect: a 3xx is a failure, tried again later", async () => {
    const domain = uniqueDomain("whc");
    await createDomain(domain);
    const { posted, fetch } = receiver([302]);
    const { env: recording, sent } = recordingWebhooksEnv<WebhookJob>();
    const job = await delivery(domain, "https://receiver.example.org/moved");
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [job]).batch, recording, { fetch });
    expect(posted.map((p) => p.redirect)).toEqual(["manual"]);
    expect(sent.map((s) => [deliveriesIn(s.body).map((d) => d.attempt), s.delaySeconds])).toEqual([[[2], 300]]);
  });

  it("500, a timeout and a network error are retried on 5 min, 10 min, 15 min, 1 h, 2 h, 4 h, then dead-lettered", async () => {
    const domain = uniqueDomain("whc");
    await createDomain(domain);
    const url = "https://receiver.example.org/flaky";
    const { posted, fetch } = receiver([500, "hang", "throw", 503, 500, 502, 500]);
    const { env: recording, sent } = recordingWebhooksEnv<WebhookJob>();
    // An old one-event message (v1) first; its retries come back as packs of that one event.
    const first = await delivery(domain, url);
    let job: WebhookJob = first;
    const delays: Array<number | undefined> = [];
    for (let attempt = 1; attempt <= 7; attempt++) {
      expect(deliveriesIn(job).map((d) => [d.attempt, d.event.id, d.url])).toEqual([[attempt, first.event.id, url]]);
      const { batch, outcomes } = fakeQueueBatch("tidings-webhooks", [job]);
      await consumeWebhooks(batch, recording, { fetch, timeoutMs: 50 });
      expect(outcomes).toEqual(["ack"]);
      if (attempt < 7) {
        const next = sent.at(-1)!;
        delays.push(next.delaySeconds);
        job = next.body;
      }
    }
    expect(delays).toEqual([300, 600, 900, 3600, 7200, 14400]);
    expect(sent).toHaveLength(6);
    expect(posted).toHaveLength(7);
    expect(posted.every((p) => p.body["event-data"].id === first.event.id)).toBe(true);

    const dead = (await (await api(`/v3/domains/${domain}/webhooks/dead-letters`)).json()) as { items: Array<Record<string, unknown>> };
    expect(dead.items).toHaveLength(1);
    expect(dead.items[0]).toMatchObject({ id: first.id, webhook: "opened", url, "event-id": first.event.id, attempts: 7, "last-status": 500 });
    expect(dead.items[0]!["event-data"]).toEqual(first.event);
    expect(dead.items[0]!["failed-at"]).toMatch(/GMT$|UTC$/);
  });

  it("records a timeout and a network error as the last error of a dead letter", async () => {
    const domain = uniqueDomain("whc");
    await createDomain(domain);
    const { fetch } = receiver(["hang"]);
    const job = await delivery(domain, "https://receiver.example.org/slow", 7);
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [job]).batch, recordingWebhooksEnv<WebhookJob>().env, { fetch, timeoutMs: 30 });
    const [dead] = ((await (await api(`/v3/domains/${domain}/webhooks/dead-letters`)).json()) as { items: Array<Record<string, unknown>> }).items;
    expect(dead).toMatchObject({ "last-status": null, "last-error": "no answer within 30 ms" });
  });

  it("replays a dead letter onto the queue and removes it from the list", async () => {
    const domain = uniqueDomain("whc");
    await createDomain(domain);
    const job = await delivery(domain, "http://127.0.0.1:9/unreachable", 7);
    await consumeWebhooks(fakeQueueBatch("tidings-webhooks", [job]).batch, recordingWebhooksEnv<WebhookJob>().env, { fetch: receiver([500]).fetch });
    const listed = (await (await api(`/v3/domains/${domain}/webhooks/dead-letters`)).json()) as { items: Array<{ id: string }> };
    expect(listed.items.map((i) => i.id)).toEqual([job.id]);
    const replay = await api(`/v3/domains/${domain}/webhooks/dead-letters/${job.id}/replay`, { method: "POST" });
    expect(replay.status).toBe(200);
    expect(((await (await api(`/v3/domains/${domain}/webhooks/dead-letters`)).json()) as { items: unknown[] }).items).toEqual([]);
    expect((await api(`/v3/domains/${domain}/webhooks/dead-letters/${job.id}/replay`, { method: "POST" })).status).toBe(404);
  });

  it("dead-letters malformed queue messages instead of crashing", async () => {
    const ctx = createExecutionContext();
    const batch = createMessageBatch("tidings-webhooks", [{ id: randomId(), timestamp: new Date(), attempts: 1, body: { type: "webhook", url: "nope" } }]);
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
  });
});

/** The fields every ready event from the send path carries. */
const READY = { tags: [], "user-variables": {}, message: { headers: { "message-id": "m@example.org" } } };

describe("fan-out from the events consumer", () => {
  it("queues each event for every URL of its webhook, packed per URL, with event-data equal to the Events API item", async () => {
    const domain = uniqueDomain("whf");
    await createDomain(domain);
    const two = new FormData();
    two.append("id", "permanent_fail");
    two.append("url", "https://a.example.org/fail");
    two.append("url", "https://b.example.org/fail");
    await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: two });
    await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "delivered", url: "https://a.example.org/delivered" }) });

    const now = Date.now() / 1000;
    const events = [
      {
        ...READY,
        id: randomId(),
        event: "failed",
        severity: "permanent",
        reason: "bounce",
        timestamp: now,
        recipient: "x@example.org",
        "delivery-status": { code: 550, message: "no" },
      },
      { ...READY, id: randomId(), event: "failed", severity: "temporary", reason: "generic", timestamp: now, recipient: "y@example.org" },
      { ...READY, id: randomId(), event: "delivered", timestamp: now, recipient: "z@example.org" },
      { ...READY, id: randomId(), event: "rejected", timestamp: now, recipient: "w@example.org" },
    ];
    const { env: recording, sent } = recordingWebhooksEnv<WebhookJob>();
    const { batch, outcomes } = fakeQueueBatch(
      "tidings-webhooks",
      events.map((event) => ({ type: "event", v: 1, domain, event })),
    );
    await consumeEvents(batch, recording);
    expect(outcomes).toEqual(["ack", "ack", "ack", "ack"]);

    const asked = sent.flatMap((s) => deliveriesIn(s.body));
    expect(asked.map((a) => [a.webhook, a.url, a.event.id]).sort()).toEqual(
      [
        ["delivered", "https://a.example.org/delivered", events[2]!.id],
        ["permanent_fail", "https://a.example.org/fail", events[0]!.id],
        ["permanent_fail", "https://b.example.org/fail", events[0]!.id],
      ].sort(),
    );
    // One pack per URL of the batch: a.example.org/delivered, a.example.org/fail, b.example.org/fail.
    expect(sent).toHaveLength(3);
    expect(asked.every((a) => a.attempt === 1 && a.domain === domain)).toBe(true);
    const stored = await waitFor(async () => {
      const { items } = await listEvents(domain, "event=delivered");
      return items.length === 1 ? items : undefined;
    });
    expect(asked.find((a) => a.webhook === "delivered")!.event).toEqual(stored[0]);
  });

  it("retries the events batch when the webhooks queue refuses, and the event is stored once", async () => {
    const domain = uniqueDomain("whf");
    await createDomain(domain);
    await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "delivered", url: "https://a.example.org/d" }) });
    const broken = {
      ...env,
      ...everyPartition("webhooks", {
        send: async () => Promise.reject(new Error("queue down")),
        sendBatch: async () => Promise.reject(new Error("queue down")),
      }),
    } as unknown as Env;
    const event = { ...READY, id: randomId(), event: "delivered", timestamp: Date.now() / 1000, recipient: "z@example.org" };
    const first = fakeQueueBatch("tidings-webhooks", [{ type: "event", v: 1, domain, event }]);
    await consumeEvents(first.batch, broken);
    expect(first.outcomes[0]).toMatchObject({ retry: expect.any(Number) });
    const { env: recording, sent } = recordingWebhooksEnv<WebhookJob>();
    const second = fakeQueueBatch("tidings-webhooks", [{ type: "event", v: 1, domain, event }]);
    await consumeEvents(second.batch, recording);
    expect(second.outcomes).toEqual(["ack"]);
    expect(sent).toHaveLength(1);
    expect((await listEvents(domain, "event=delivered")).items).toHaveLength(1);
  });
});

describe("webhook ledger purge", () => {
  // The control database's rows: dead letters, and done rows from before the ledger moved into the
  // event shards or of events past every retention (the shards' are emptied with their slot).
  it("forgets successes after 2 days and dead letters after 30, never newer rows", async () => {
    const domain = uniqueDomain("whp");
    await createDomain(domain);
    const now = Date.UTC(2030, 0, 31);
    const day = 86_400_000;
    const row = (id: string, status: "delivered" | "failed", ageDays: number) => ({
      id,
      domain,
      webhook: "opened" as const,
      url: "https://a.example.org/",
      eventId: id,
      status,
      attempts: 1,
      lastStatus: 200,
      lastError: "",
      payload: { id, event: "opened" },
      finishedAt: now - ageDays * day,
    });
    await recordDeliveries(env.DB, [
      row(`${domain}-ok-old`, "delivered", 2.1),
      row(`${domain}-ok-new`, "delivered", 1.9),
      row(`${domain}-dead-old`, "failed", 30.1),
      row(`${domain}-dead-new`, "failed", 29.9),
    ]);
    await purgeWebhookLedger(env, now);
    const { results } = await env.DB.prepare("SELECT id FROM webhook_deliveries WHERE domain = ? ORDER BY id").bind(domain).all<{ id: string }>();
    expect(results.map((r) => r.id)).toEqual([`${domain}-dead-new`, `${domain}-ok-new`]);
  });
});
