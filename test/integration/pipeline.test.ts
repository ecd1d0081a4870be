// Pixel -> queue -> D1 -> Events API through the whole Worker, and the events consumer's explicit
// outcomes: idempotent redelivery, dead-lettering of malformed messages, retries on failure.
import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { randomId } from "../../src/domain/base64url";
import { type EventPack, packEvents } from "../../src/domain/event-packs";
import { MAX_QUEUE_BODY_BYTES, type TrackingHitInput } from "../../src/domain/queue-messages";
import { valueOrThrow } from "../../src/domain/refusal";
import { deliveredEvent } from "../../src/domain/send-events";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { createDomain, everyPartition, linksIn, listEvents, prepare, storedEvents, uniqueDomain, waitFor } from "../helpers";

const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const testEnv = env as unknown as Env;

function hitFor(domain: string, overrides: Partial<TrackingHitInput> = {}): TrackingHitInput {
  return {
    type: "hit",
    v: 1,
    id: randomId(),
    event: "opened",
    ts: Date.now() * 1000,
    domain,
    messageId: "msg@x",
    recipient: "someone@example.org",
    url: "",
    issuedAt: Math.floor(Date.now() / 1000) - 600,
    method: "GET",
    ip: "203.0.113.9",
    userAgent: CHROME,
    cf: { country: "DE", regionCode: "BE", city: "Berlin" },
    ...overrides,
  };
}

async function consume(messages: Array<{ id: string; body: unknown; attempts?: number }>, targetEnv: Env = testEnv) {
  const batch = createMessageBatch(
    "tidings-events",
    messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
  );
  // getQueueResult reports which messages were retried but not their delay: record it here.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    Object.defineProperty(message, "retry", { value: (options?: QueueRetryOptions) => (delays.set(message.id, options?.delaySeconds), retry(options)) });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, targetEnv, ctx);
  return { ...(await getQueueResult(batch, ctx)), delays };
}

async function countEvents(domain: string): Promise<number> {
  return (await storedEvents(domain)).length;
}

async function unsubscribesOf(domain: string, address: string) {
  return valueOrThrow(await testEnv.DOMAIN_STATE.get(testEnv.DOMAIN_STATE.idFromName(domain)).getUnsubscribe(address));
}

describe("pixel -> queue -> D1 -> Events API", () => {
  it("records opens, clicks and unsubscribes with Mailgun's fields, tags and variables", async () => {
    const domain = uniqueDomain("e2e");
    await createDomain(domain, { open: true, click: "yes", unsubscribe: true });
    const prepared = await prepare({
      domain,
      message_id: "<e2e-1@mail.test>",
      recipient: "Carol@Example.net",
      subject: "Spring sale",
      from: "Shop <shop@mail.test>",
      html: '<html><body><p><a href="https://shop.test/spring">Sale</a></p></body></html>',
      tags: ["Newsletter", "spring"],
      user_variables: { customer: "c-17" },
    });
    const links = linksIn(prepared.html!);
    const cf = { country: "NL", regionCode: "NH", city: "Amsterdam", asn: 1136, asOrganization: "KPN" };
    await SELF.fetch(links.open[0]!, { headers: { "user-agent": CHROME, "cf-connecting-ip": "198.51.100.7" }, cf });
    const click = await SELF.fetch(links.click[0]!, { headers: { "user-agent": CHROME }, redirect: "manual", cf });
    expect(click.headers.get("location")).toBe("https://shop.test/spring");
    await SELF.fetch(links.unsubscribe[0]!, {
      method: "POST",
      body: "List-Unsubscribe=One-Click",
      headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": CHROME },
    });

    const events = await waitFor(async () => {
      const page = await listEvents(domain, "ascending=yes");
      return page.items.length === 3 ? page.items : undefined;
    });
    // Hits in the same millisecond are ordered by event id: look them up by type.
    expect(events.map((e) => e.event).sort()).toEqual(["clicked", "opened", "unsubscribed"]);
    const [opened, clicked, unsubscribed] = ["opened", "clicked", "unsubscribed"].map((type) => events.find((e) => e.event === type));
    expect(opened).toMatchObject({
      "log-level": "info",
      recipient: "Carol@Example.net",
      "recipient-domain": "example.net",
      ip: "198.51.100.7",
      geolocation: { country: "NL", region: "NH", city: "Amsterdam" },
      "client-info": { "client-name": "Chrome", "client-os": "Windows", "client-type": "browser", "device-type": "desktop", "user-agent": CHROME },
      message: { headers: { "message-id": "e2e-1@mail.test", subject: "Spring sale", from: "Shop <shop@mail.test>" } },
      tags: ["Newsletter", "spring"],
      "user-variables": { customer: "c-17" },
    });
    expect(opened!.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(opened!.timestamp).toBeGreaterThan(1.7e9);
    expect(opened!.timestamp).toBeLessThan(Date.now() / 1000 + 1);
    expect(opened!["client-info"].bot).toBe("");
    expect(clicked!.url).toBe("https://shop.test/spring");
    // Clicked within seconds of being prepared: a scanner, not a person.
    expect(clicked!["client-info"].bot).toBe("generic");
    expect(unsubscribed!.url).toBeUndefined();

    const unsubscribe = await waitFor(async () => (await unsubscribesOf(domain, "carol@example.net")) ?? undefined);
    expect(unsubscribe.tags).toEqual(["*"]);
  });

  it("unsubscribes from the message's tags through a tag unsubscribe link", async () => {
    const domain = uniqueDomain("tagu");
    await createDomain(domain);
    const prepared = await prepare({
      domain,
      message_id: "t1@x",
      recipient: "dave@example.org",
      html: "<p>%tag_unsubscribe_url%</p>",
      tags: ["Promo", "weekly"],
    });
    const tagLink = linksIn(prepared.html!).unsubscribe[0]!;
    expect(prepared.headers["List-Unsubscribe"]).not.toContain(tagLink); // the header leaves the whole domain
    await SELF.fetch(tagLink, { method: "POST", body: "List-Unsubscribe=One-Click" });
    const unsubscribe = await waitFor(async () => (await unsubscribesOf(domain, "dave@example.org")) ?? undefined);
    expect(unsubscribe.tags).toEqual(["promo", "weekly"]);
  });

  it("never unsubscribes on a GET of the unsubscribe link", async () => {
    const domain = uniqueDomain("getu");
    await createDomain(domain);
    const prepared = await prepare({ domain, message_id: "g1@x", recipient: "erin@example.org", html: "<p>%unsubscribe_url%</p>" });
    const page = await SELF.fetch(linksIn(prepared.html!).unsubscribe[0]!);
    expect(page.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500)); // longer than the queue's batch timeout
    expect(await unsubscribesOf(domain, "erin@example.org")).toBeNull();
    expect((await listEvents(domain)).items).toEqual([]);
  });
});

describe("events consumer", () => {
  it("acks every message and writes nothing new when a batch is redelivered", async () => {
    const domain = uniqueDomain("idem");
    // As the edge sends them, without an event id (the consumer derives it from the queue
    // message's id), and a few as older producers did, with one.
    const hits = Array.from({ length: 25 }, (_, i) => {
      const { id, ...hit } = hitFor(domain, { event: i % 2 ? "clicked" : "opened", url: i % 2 ? "https://x.test/" : "", ts: Date.now() * 1000 + i });
      return i < 20 ? hit : { ...hit, id };
    });
    const messages = hits.map((body) => ({ id: randomId(), body }));
    const first = await consume(messages);
    expect(first.explicitAcks.sort()).toEqual(messages.map((m) => m.id).sort());
    expect(first.retryMessages).toEqual([]);
    expect(await countEvents(domain)).toBe(25);
    const before = await storedEvents(domain);

    const again = await consume(messages.map((m) => ({ ...m, attempts: 2 })));
    expect(again.explicitAcks).toHaveLength(25);
    expect(await storedEvents(domain)).toEqual(before);
  });

  it("dead-letters a malformed message, keeps the good ones, and records it for inspection", async () => {
    const domain = uniqueDomain("dlq");
    const good = { id: randomId(), body: hitFor(domain) };
    const marker = randomId();
    const malformed = [
      { id: randomId(), body: { type: "hit", v: 1, id: marker } },
      { id: randomId(), body: "not even an object" },
      { id: randomId(), body: { type: "unknown-kind", marker } },
    ];
    const result = await consume([good, ...malformed]);
    expect(result.explicitAcks.sort()).toEqual([good, ...malformed].map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(await countEvents(domain)).toBe(1);
    // The dead-letter queue's consumer stores what was parked.
    const parked = await waitFor(async () => {
      const row = await testEnv.DB.prepare("SELECT reason, body FROM dead_letters WHERE body LIKE ?")
        .bind(`%${marker}%`)
        .first<{ reason: string; body: string }>();
      return row ?? undefined;
    });
    expect(parked.reason).toMatch(/^malformed:/);
  });

  it("retries the whole batch with backoff when D1 fails, and loses nothing", async () => {
    const domain = uniqueDomain("retry");
    const messages = [1, 2, 3].map(() => ({ id: randomId(), body: hitFor(domain), attempts: 3 }));
    const failingDb = new Proxy(testEnv.DB, {
      get(target, property) {
        if (property === "batch" || property === "prepare")
          return () => {
            throw new Error("D1 is down");
          };
        return Reflect.get(target, property);
      },
    });
    const result = await consume(messages, { ...testEnv, DB: failingDb });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId).sort()).toEqual(messages.map((m) => m.id).sort());
    // Third attempt: 10 s doubled twice.
    expect([...result.delays.values()]).toEqual([40, 40, 40]);
    expect(await countEvents(domain)).toBe(0);
    // The retry then succeeds.
    expect((await consume(messages)).explicitAcks).toHaveLength(3);
    expect(await countEvents(domain)).toBe(3);
  });

  it("retries an unsubscribe whose Durable Object call fails, and acks the rest", async () => {
    const domain = uniqueDomain("dofail");
    const open = { id: randomId(), body: hitFor(domain) };
    const unsub = { id: randomId(), body: hitFor(domain, { event: "unsubscribed", scope: "domain", recipient: "frank@example.org" }) };
    const brokenDo = {
      idFromName: () => ({}),
      get: () => ({
        addUnsubscribes: async () => {
          throw new Error("DO unavailable");
        },
      }),
    };
    const result = await consume([open, unsub], { ...testEnv, DOMAIN_STATE: brokenDo as unknown as Env["DOMAIN_STATE"] });
    expect(result.explicitAcks).toEqual([open.id]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual([unsub.id]);
    expect(await countEvents(domain)).toBe(2); // stored once; the retry will not duplicate it
    await consume([unsub]);
    expect(await countEvents(domain)).toBe(2);
    expect((await unsubscribesOf(domain, "frank@example.org"))?.tags).toEqual(["*"]);
  });

  it("classifies Apple and Gmail proxies and scanners without dropping them", async () => {
    const domain = uniqueDomain("bots");
    await createDomain(domain);
    const hits = [
      hitFor(domain, { userAgent: "Mozilla/5.0", cf: { asn: 714, asOrganization: "Apple Inc." } }),
      hitFor(domain, { userAgent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)" }),
      hitFor(domain, { method: "HEAD" }),
      hitFor(domain),
    ];
    await consume(hits.map((body) => ({ id: randomId(), body })));
    const { items } = await listEvents(domain, "ascending=yes");
    expect(items.map((e) => e["client-info"].bot).sort()).toEqual(["", "apple", "generic", "gmail"]);
    expect(items.find((e) => e["client-info"].bot === "")!.geolocation).toEqual({ country: "DE", region: "BE", city: "Berlin" });
  });

  it("fills geolocation with Unknown when the request carried none", async () => {
    const domain = uniqueDomain("geo");
    await createDomain(domain);
    await consume([{ id: randomId(), body: hitFor(domain, { cf: {} }) }]);
    const { items } = await listEvents(domain);
    expect(items[0]!.geolocation).toEqual({ country: "Unknown", region: "Unknown", city: "Unknown" });
  });

  it("stores each event of a pack once however often it comes back, and parks a pack with a malformed event", async () => {
    const domain = uniqueDomain("pack");
    await createDomain(domain);
    const packs = deliveredPacks(domain, 5);
    expect(packs).toHaveLength(1);
    const first = await consume([{ id: randomId(), body: packs[0] }]);
    expect(first.explicitAcks).toHaveLength(1);
    expect(await countEvents(domain)).toBe(5);
    const before = await storedEvents(domain);
    // Redelivered, or sent back to the queue under a new message id: nothing new.
    expect((await consume([{ id: randomId(), body: packs[0], attempts: 2 }])).explicitAcks).toHaveLength(1);
    expect(await storedEvents(domain)).toEqual(before);
    const { items } = await listEvents(domain, "event=delivered&limit=10");
    expect(items).toHaveLength(5);
    expect(items[0]).toMatchObject({
      event: "delivered",
      tags: ["t"],
      message: { headers: { subject: "Packed", to: expect.stringMatching(/^p\d@example\.org$/) } },
    });

    const other = uniqueDomain("badpack");
    const broken: EventPack = { ...deliveredPacks(other, 3)[0]!, common: {} };
    const parked = await consume([{ id: randomId(), body: broken }]);
    expect(parked.explicitAcks).toHaveLength(1);
    expect(await countEvents(other)).toBe(0);
  });

  it("sends packs past an invocation's budget back to the queue, acked rather than retried, and stores them next time", async () => {
    const domain = uniqueDomain("budget");
    // Delivered events with an 80 KB To header: a pack of 100 is 8 MB of events once unpacked.
    const packs = [0, 1, 2].flatMap(() => deliveredPacks(domain, 100, 80_000));
    expect(packs).toHaveLength(3);
    const sentBack: unknown[] = [];
    const budgetEnv: Env = {
      ...testEnv,
      ...everyPartition("events", { sendBatch: async (bs: Array<{ body: unknown }>) => void sentBack.push(...bs.map((m) => m.body)) }),
    };
    const hits = [hitFor(domain), hitFor(domain)];
    const messages = [...packs, ...hits].map((body) => ({ id: randomId(), body }));
    const first = await consume(messages, budgetEnv);
    expect(first.explicitAcks.sort()).toEqual(messages.map((m) => m.id).sort());
    expect(first.retryMessages).toEqual([]);
    // The hits and one pack fit the 12 MB of one invocation; a second pack would not.
    expect(sentBack).toEqual([packs[1], packs[2]]);
    expect(await countEvents(domain)).toBe(102);
    sentBack.length = 0;
    await consume(
      [
        { id: randomId(), body: packs[1] },
        { id: randomId(), body: packs[2] },
      ],
      budgetEnv,
    );
    expect(sentBack).toEqual([packs[2]]);
    await consume([{ id: randomId(), body: packs[2] }], budgetEnv);
    expect(await countEvents(domain)).toBe(302);
  });
});

/** Delivered events of one message to `count` recipients, packed as the delivery consumer packs them. */
function deliveredPacks(domain: string, count: number, toBytes = 0): EventPack[] {
  const messageId = `${randomId()}@${domain}`;
  const to = (i: number) => (toBytes > 0 ? `${"t".repeat(toBytes)}@example.org` : `p${i % 10}@example.org`);
  const events = Array.from({ length: count }, (_, i) =>
    deliveredEvent(
      { domain, messageId, headers: { to: to(i), subject: "Packed", from: "me@x.test" }, tags: ["t"], userVariables: {}, size: 100 },
      `p${i}@example.org`,
      { code: 250, message: "OK", attemptNo: 1 },
      { id: randomId(), ms: Date.now() + i },
    ),
  );
  return packEvents(domain, events, MAX_QUEUE_BODY_BYTES);
}
