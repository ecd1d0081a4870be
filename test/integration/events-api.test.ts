// Events API: filters, keyset paging through absolute URLs, and bad input.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { randomId } from "../../src/domain/base64url";
import type { TrackingHitInput } from "../../src/domain/queue-messages";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { api, createDomain, listEvents, prepare, uniqueDomain } from "../helpers";

const domain = uniqueDomain("evapi");
/** Three days ago (seconds): events must be within the domain's retention to be stored and read. */
const T0 = Math.floor(Date.now() / 1000) - 3 * 86_400;
const COUNT = 57;
const PREPARED_AT = Math.floor(Date.now() / 1000);

/** Event i: opened at T0 + i seconds, recipient r<i % 3>, tags by message. */
async function seed(): Promise<void> {
  await createDomain(domain);
  for (const [message, tags] of [
    ["m0@x", ["alpha", "Shared"]],
    ["m1@x", ["beta", "shared"]],
    ["m2@x", []],
  ] as const) {
    for (let r = 0; r < 3; r++) {
      await prepare({
        domain,
        message_id: message,
        recipient: `r${r}@example.org`,
        subject: message === "m0@x" ? "Hello Rachel" : "Hello Monica",
        tags: [...tags],
      });
    }
  }
  const hits: TrackingHitInput[] = Array.from({ length: COUNT }, (_, i) => ({
    type: "hit",
    v: 1,
    id: randomId(),
    event: i % 4 === 3 ? "clicked" : "opened",
    url: i % 4 === 3 ? "https://x.test/" : "",
    ts: (T0 + i) * 1e6,
    domain,
    messageId: `m${i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : 2}@x`,
    recipient: `r${Math.floor(i / 3) % 3}@example.org`,
    // Issued when the messages were prepared (just now): that day's shard holds their metadata.
    issuedAt: PREPARED_AT,
    method: "GET",
    ip: "192.0.2.1",
    userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    cf: {},
  }));
  const batch = createMessageBatch(
    "tidings-events",
    hits.map((body) => ({ id: randomId(), timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env as unknown as Env, ctx);
  expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(COUNT);
}

async function walk(query: string): Promise<{ timestamps: number[]; pages: number }> {
  let page = await listEvents(domain, query);
  const timestamps: number[] = [];
  let pages = 0;
  while (page.items.length > 0) {
    pages++;
    timestamps.push(...page.items.map((e) => e.timestamp));
    const next = new URL(page.paging.next!);
    const response = await api(next.pathname);
    expect(response.status).toBe(200);
    page = await response.json();
  }
  return { timestamps, pages };
}

beforeAll(seed);

describe("Events API", () => {
  it("returns absolute paging URLs whose last segment is a base64url token", async () => {
    const page = await listEvents(domain, "limit=5");
    expect(Object.keys(page.paging).sort()).toEqual(["first", "last", "next", "previous"]);
    for (const url of Object.values(page.paging)) {
      const parsed = new URL(url);
      expect(parsed.pathname).toMatch(new RegExp(`^/v3/${domain}/events/[A-Za-z0-9_-]+$`));
    }
    expect(page.items).toHaveLength(5);
  });

  it("walks every event exactly once by following next, in both directions", async () => {
    const descending = await walk("limit=10");
    expect(descending.timestamps).toHaveLength(COUNT);
    expect(new Set(descending.timestamps).size).toBe(COUNT);
    expect(descending.timestamps).toEqual([...descending.timestamps].sort((a, b) => b - a));
    expect(descending.pages).toBe(6);
    const ascending = await walk("limit=7&ascending=yes");
    expect(ascending.timestamps).toEqual([...descending.timestamps].reverse());
  });

  it("walks a tag's events exactly once from event_tags, in both directions, with other filters and a range", async () => {
    // m0 and m1 carry "shared": events whose i % 3 is 0 or 1.
    const tagged = Array.from({ length: COUNT }, (_, i) => i)
      .filter((i) => i % 3 !== 2)
      .map((i) => T0 + i);
    const descending = await walk("tags=shared&limit=4");
    expect(descending.timestamps).toEqual([...tagged].reverse());
    expect(descending.pages).toBe(Math.ceil(tagged.length / 4));
    expect((await walk("tags=SHARED&limit=7&ascending=yes")).timestamps).toEqual(tagged);
    // The tag named plainly drives; the rest of the expression still applies.
    const alphaOnly = tagged.filter((t) => (t - T0) % 3 === 0);
    expect((await walk(`tags=${encodeURIComponent("shared AND NOT beta")}&limit=5&ascending=yes`)).timestamps).toEqual(alphaOnly);
    expect((await walk("tags=shared&event=clicked&limit=3&ascending=yes")).timestamps).toEqual(tagged.filter((t) => (t - T0) % 4 === 3));
    expect((await walk(`tags=shared&begin=${T0 + 10}&end=${T0 + 20}&limit=2`)).timestamps).toEqual(tagged.filter((t) => t >= T0 + 10 && t <= T0 + 20));
    // previous and last work on the driven walk too.
    const first = await listEvents(domain, "tags=shared&limit=5&ascending=yes");
    const second = await (await api(new URL(first.paging.next!).pathname)).json<any>();
    const back = await (await api(new URL(second.paging.previous!).pathname)).json<any>();
    expect(back.items.map((e: any) => e.id)).toEqual(first.items.map((e) => e.id));
    const last = await (await api(new URL(first.paging.last!).pathname)).json<any>();
    expect(last.items.map((e: any) => e.timestamp)).toEqual(tagged.slice(-5));
    // An unknown tag matches nothing.
    expect((await listEvents(domain, "tags=never-used-anywhere")).items).toEqual([]);
  });

  it("pages backwards with previous and jumps to the last page", async () => {
    const first = await listEvents(domain, "limit=10&ascending=yes");
    const second = await (await api(new URL(first.paging.next!).pathname)).json<any>();
    const back = await (await api(new URL(second.paging.previous!).pathname)).json<any>();
    expect(back.items.map((e: any) => e.id)).toEqual(first.items.map((e) => e.id));
    const last = await (await api(new URL(first.paging.last!).pathname)).json<any>();
    expect(last.items.map((e: any) => e.timestamp)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + COUNT - 10 + i));
    const beyond = await (await api(new URL(last.paging.next!).pathname)).json<any>();
    expect(beyond.items).toEqual([]);
  });

  it("honours begin, end and ascending, in RFC 2822 or epoch seconds", async () => {
    const begin = new Date((T0 + 10) * 1000).toUTCString();
    const asc = await listEvents(domain, `begin=${encodeURIComponent(begin)}&end=${T0 + 19}&limit=300`);
    expect(asc.items.map((e) => e.timestamp)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + 10 + i));
    const desc = await listEvents(domain, `begin=${T0 + 19}&end=${T0 + 10}`);
    expect(desc.items.map((e) => e.timestamp)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + 19 - i));
    const onlyBegin = await listEvents(domain, `begin=${T0 + 50}&ascending=yes`);
    expect(onlyBegin.items).toHaveLength(COUNT - 50);
    const beforeBegin = await listEvents(domain, `begin=${T0 + 4}&ascending=no`);
    expect(beforeBegin.items.map((e) => e.timestamp)).toEqual([4, 3, 2, 1, 0].map((i) => T0 + i));
  });

  it("filters by recipient, event, tags, message-id and subject with expressions", async () => {
    const count = async (query: string) => (await listEvents(domain, `limit=300&${query}`)).items.length;
    const byRecipient = (r: number) => Array.from({ length: COUNT }, (_, i) => i).filter((i) => Math.floor(i / 3) % 3 === r).length;
    expect(await count("recipient=r1@example.org")).toBe(byRecipient(1));
    expect(await count("recipient=R1@EXAMPLE.ORG")).toBe(byRecipient(1));
    expect(await count(`recipient=${encodeURIComponent("r0@example.org OR r2@example.org")}`)).toBe(byRecipient(0) + byRecipient(2));
    expect(await count(`recipient=${encodeURIComponent("NOT r0@example.org")}`)).toBe(COUNT - byRecipient(0));
    const clicks = Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 4 === 3).length;
    expect(await count("event=clicked")).toBe(clicks);
    expect(await count(`event=${encodeURIComponent("opened OR clicked")}`)).toBe(COUNT);
    expect(await count("event=opened,clicked")).toBe(COUNT);
    const m0 = Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 3 === 0).length;
    const m1 = Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 3 === 1).length;
    expect(await count("tags=alpha")).toBe(m0);
    expect(await count("tags=SHARED")).toBe(m0 + m1);
    expect(await count(`tags=${encodeURIComponent("shared AND NOT beta")}`)).toBe(m0);
    expect(await count("message-id=m2@x")).toBe(COUNT - m0 - m1);
    expect(await count(`subject=${encodeURIComponent('"hello rachel"')}`)).toBe(m0);
    expect(await count(`subject=${encodeURIComponent("(Hello AND NOT Rachel)")}`)).toBe(COUNT - m0);
    // Several filters are ANDed, and so is the same filter given twice.
    expect(await count("event=clicked&recipient=r1@example.org")).toBe(
      Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 4 === 3 && Math.floor(i / 3) % 3 === 1).length,
    );
    expect(await count("tags=shared&tags=beta")).toBe(m1);
  });

  it("keeps the filters when paging", async () => {
    const first = await listEvents(domain, "recipient=r2@example.org&limit=4");
    const seen = first.items.map((e) => e.id);
    let next = first.paging.next!;
    for (;;) {
      const page = await (await api(new URL(next).pathname)).json<any>();
      if (page.items.length === 0) break;
      expect(page.items.every((e: any) => e.recipient === "r2@example.org")).toBe(true);
      seen.push(...page.items.map((e: any) => e.id));
      next = page.paging.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe((await listEvents(domain, "recipient=r2@example.org&limit=300")).items.length);
  });

  it("answers bad input with 400 and a message, and an unknown domain with 404", async () => {
    for (const query of [
      "limit=301",
      "limit=0",
      "limit=ten",
      "begin=yesterday",
      "end=32%20Foo%202020",
      "ascending=maybe",
      `begin=${T0}&end=${T0 + 5}&ascending=no`,
      `recipient=${encodeURIComponent("(a OR b")}`,
      `subject=${encodeURIComponent('"unterminated')}`,
      `recipient=${encodeURIComponent("a AND")}`,
      "size=%3Eabc%20AND",
      "event=%3E5",
    ]) {
      const response = await api(`/v3/${domain}/events?${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as any).message, query).toEqual(expect.any(String));
    }
    const unknown = await api(`/v3/${uniqueDomain()}/events`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: "Domain not found" });
    expect((await api(`/v3/${domain}/events/not-a-token`)).status).toBe(400);
    const other = await listEvents(domain, "limit=1");
    const otherDomain = uniqueDomain();
    await createDomain(otherDomain);
    expect((await api(`/v3/${otherDomain}/events/${new URL(other.paging.next!).pathname.split("/").pop()}`)).status).toBe(400);
  });
});

describe("Events API page tokens", () => {
  it("answers a crafted token with a bad filter with 400, not 500", async () => {
    const { encodeCursor } = await import("../../src/domain/cursor");
    const base = { domain, lo: null, hi: null, ascending: false, limit: 10 };
    for (const filters of <Array<Record<string, string[]>>>[{ constructor: ["x"] }, { recipient: ["(a OR"] }, { nonsense: ["x"] }]) {
      const token = encodeCursor({ q: { ...base, filters }, m: "first" });
      const response = await api(`/v3/${domain}/events/${token}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as any).message).toMatch(/Invalid filter expression/);
    }
  });
});

describe("paging links as Ghost's Mailgun analytics asks for them", () => {
  // It strips only Mailgun's origin from paging.next and prefixes /v3: /v3http://host/v3/{d}/events/{t}.
  it("answers the embedded form of a paging link of ours, and nothing else", async () => {
    const first = await listEvents(domain, "limit=5&ascending=yes");
    const next = new URL(first.paging.next!);
    expect(next.origin).toBe("http://127.0.0.1");
    const direct = await (await api(next.pathname)).json();
    for (const host of ["127.0.0.1", "shared.test", "localhost:8787"]) {
      const embedded = await api(`/v3http://${host}${next.pathname}`);
      expect(embedded.status, host).toBe(200);
      expect(await embedded.json(), host).toEqual(direct);
    }
    expect((await api(`/v3https://127.0.0.1${next.pathname}`)).status).toBe(200);
    for (const path of [
      `/v3http://elsewhere.example${next.pathname}`,
      `/v3http://127.0.0.1.evil.example${next.pathname}`,
      `/v3http://127.0.0.1/v3/${domain}/bounces`,
      `/v3http://127.0.0.1/v3/${domain}/events`,
      `/v3ftp://127.0.0.1${next.pathname}`,
    ]) {
      const answer = await api(path);
      expect(answer.status, path).toBe(404);
      expect(await answer.json(), path).toEqual({ message: "Not found" });
    }
    expect((await api(`/v3http://127.0.0.1${next.pathname}`, { method: "POST" })).status).toBe(404);
  });
});
