// Retention: reads hide a domain's events past its retention; the cron empties the event shards'
// slots the ring comes round to (only events the rollup counted), and deletes remembered messages
// past retention and VERP return paths past it or RETURN_PATH_MIN_DAYS, in bounded chunks; newer
// rows and suppressions are never touched.
import { createExecutionContext, createMessageBatch, createScheduledController, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { consumeRollups } from "../../src/consumers/rollups";
import { LEGACY_PURGE_QUERIES_PER_RUN, purgeExpired } from "../../src/cron/retention";
import { rollUpStats } from "../../src/cron/rollups";
import { insertEvents } from "../../src/db/events-store";
import { loadMessageMetadata, messageKey, saveMessageMetadata, saveSentMessageMetadata } from "../../src/db/messages";
import { findReturnPath, RETURN_PATH_MIN_DAYS, saveReturnPaths } from "../../src/db/return-paths";
import { directory } from "../../src/db/shards";
import { randomId } from "../../src/domain/base64url";
import { dayOf } from "../../src/domain/event-shards";
import type { TrackingHitInput } from "../../src/domain/queue-messages";
import { valueOrThrow } from "../../src/domain/refusal";
import type { MailgunEvent } from "../../src/domain/tracking-event";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { api, createDomain, form, listEvents, storedRows, uniqueDomain } from "../helpers";

const testEnv = env as unknown as Env;
const DAY = 86_400_000;

async function seed(domain: string, ages: number[]): Promise<void> {
  const hits: TrackingHitInput[] = ages.map((ageMs, i) => ({
    type: "hit",
    v: 1,
    id: randomId(),
    event: "opened",
    url: "",
    ts: (Date.now() - ageMs) * 1000 + i,
    domain,
    messageId: "m@x",
    recipient: `r${i}@example.org`,
    issuedAt: 0,
    method: "GET",
    ip: "",
    userAgent: "",
    cf: {},
  }));
  await saveMessageMetadata(
    testEnv,
    { domain, messageId: "m@x", recipient: "r0@example.org" },
    { tags: ["keep"], userVariables: {}, headers: {}, preparedAt: Date.now() - 40 * DAY },
  );
  const batch = createMessageBatch(
    "tidings-events",
    hits.map((body) => ({ id: randomId(), timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv, ctx);
  expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(hits.length);
}

/** The events the Events API shows of a domain. */
const readable = async (domain: string) => (await listEvents(domain, "limit=300")).items.length;
/** The rows a domain has in the shard holding its events of the moment `ms`. */
async function stored(domain: string, ms: number): Promise<number> {
  const shard = (await directory(testEnv)).nameFor(domain, dayOf(ms * 1000));
  const db = (testEnv as unknown as Record<string, D1Database>)[shard]!;
  return (await db
    .prepare("SELECT count(*) AS n FROM events WHERE domain_id = (SELECT id FROM event_domains WHERE name = ?)")
    .bind(domain)
    .first<{ n: number }>())!.n;
}

describe("retention", () => {
  it("is a domain setting from 2 to 30 days, 30 by default", async () => {
    const domain = uniqueDomain("ret");
    await createDomain(domain);
    expect(((await (await api(`/v4/domains/${domain}`)).json()) as any).domain.retention_days).toBe(30);
    const updated = await api(`/v4/domains/${domain}`, { method: "PUT", body: form({ retention_days: "2" }) });
    expect(((await updated.json()) as any).domain.retention_days).toBe(2);
    for (const bad of ["1", "31", "7.5", "week"]) {
      const response = await api(`/v4/domains/${domain}`, { method: "PUT", body: form({ retention_days: bad }) });
      expect(response.status, bad).toBe(400);
    }
  });

  it("hides what is past each domain's retention from reads, and the cron handler deletes nothing newer", async () => {
    const short = uniqueDomain("short");
    const long = uniqueDomain("long");
    await createDomain(short);
    await createDomain(long);
    await api(`/v4/domains/${short}`, { method: "PUT", body: form({ retention_days: "2" }) });
    await seed(short, [3 * DAY, 2 * DAY + 60_000, 2 * DAY - 60_000, 1 * DAY, 0]);
    // 31 days is past every retention: the consumer does not store it.
    await seed(long, [3 * DAY, 31 * DAY, 29 * DAY]);
    expect(await readable(short)).toBe(3); // 2 days minus a minute, 1 day, now
    expect(await readable(long)).toBe(2); // 3 and 29 days

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), testEnv, ctx);
    await waitOnExecutionContext(ctx);

    expect(await readable(short)).toBe(3);
    expect(await readable(long)).toBe(2);
    // Raising the retention again shows what is still stored: nothing was deleted one row at a time.
    await api(`/v4/domains/${short}`, { method: "PUT", body: form({ retention_days: "30" }) });
    expect(await readable(short)).toBe(5);
  });

  it("keeps a sent message's facts and recipients' rows in its send day's shard until that slot is emptied, and purges the control database's old ones", async () => {
    const domain = uniqueDomain("facts");
    await createDomain(domain);
    const facts = (preparedAt: number) => ({
      tags: ["t"],
      userVariables: { v: "1" },
      headers: { to: "a@example.org, b@example.org", subject: "s" },
      preparedAt,
    });
    // 22 days back: a day no other test writes, so emptying its slot touches only this message.
    const old = Date.now() - 22 * DAY;
    const recent = Date.now() - DAY;
    await saveSentMessageMetadata(testEnv, domain, "old@x", facts(old), [
      { recipient: "a@example.org", headers: { subject: "own" } },
      { recipient: "b@example.org" },
    ]);
    await saveSentMessageMetadata(testEnv, domain, "new@x", facts(recent), [{ recipient: "a@example.org", userVariables: { v: "a" } }]);
    // Past every retention: not stored at all.
    await saveSentMessageMetadata(testEnv, domain, "ancient@x", facts(Date.now() - 40 * DAY), [{ recipient: "a@example.org" }]);
    const key = (messageId: string, recipient: string, sentAt: number) => ({ domain, messageId, recipient, sentAt });
    const keys = [key("old@x", "a@example.org", old), key("old@x", "b@example.org", old), key("new@x", "a@example.org", recent)];
    const before = await loadMessageMetadata(testEnv, keys);
    expect(keys.map((k) => before.get(messageKey(k))).map((m) => [m?.headers.subject, m?.userVariables.v])).toEqual([
      ["own", "1"],
      ["s", "1"],
      ["s", "a"],
    ]);
    expect((await storedRows("message_facts", domain)).map((row) => row.message_id).sort()).toEqual(["new@x", "old@x"]);
    // The day the ring comes round to the old message's slot, its metadata goes with the slot.
    await purgeExpired(testEnv, old + 31 * DAY);
    expect((await storedRows("message_facts", domain)).map((row) => row.message_id)).toEqual(["new@x"]);
    expect((await storedRows("messages", domain)).map((row) => row.message_id)).toEqual(["new@x"]);
    expect([...(await loadMessageMetadata(testEnv, keys)).values()].map((m) => m.userVariables.v)).toEqual(["a"]);
    // A message remembered in the control database before the shards is purged there by its domain's retention.
    await testEnv.DB.prepare("INSERT INTO message_facts (domain, message_id, prepared_at) VALUES (?1, 'legacy@x', ?2)")
      .bind(domain, Date.now() - 40 * DAY)
      .run();
    expect((await loadMessageMetadata(testEnv, [{ domain, messageId: "legacy@x", recipient: "a@example.org" }])).size).toBe(1);
    // Successive cron runs, 5 minutes apart: each run's purge of the control database starts a run's
    // worth of domains (LEGACY_PURGE_QUERIES_PER_RUN / 3) after the last, so every domain the database
    // holds (other test files' too, when they share it) is reached within this many runs.
    const domains = (await testEnv.DB.prepare("SELECT count(*) AS n FROM domains").first<{ n: number }>())!.n;
    const runs = Math.ceil(domains / Math.floor(LEGACY_PURGE_QUERIES_PER_RUN / 3)) + 1;
    for (let run = 0; run < runs; run++) await purgeExpired(testEnv, Date.now() + run * 5 * 60_000);
    expect((await loadMessageMetadata(testEnv, [{ domain, messageId: "legacy@x", recipient: "a@example.org" }])).size).toBe(0);
  });

  it("empties the slot the ring comes round to in bounded chunks, resumes where an interrupted purge stopped, and keeps what the rollup has not counted", async () => {
    const domain = uniqueDomain("chunks");
    await createDomain(domain);
    // 24 days back: a day no other test writes, so emptying its slot touches only these events.
    const then = Date.now() - 24 * DAY;
    await seed(
      domain,
      Array.from({ length: 24 }, () => 24 * DAY),
    );
    // And one with a subject and a sender, which an event shard keeps apart (event_texts).
    const ts = then * 1000 + 999;
    const body = {
      id: "with-texts",
      event: "delivered",
      timestamp: ts / 1e6,
      recipient: "t@example.org",
      message: { headers: { subject: "Old news", from: "Old <o@x>" } },
    };
    await insertEvents(testEnv, [
      {
        id: "with-texts",
        domain,
        ts,
        event: "delivered",
        severity: null,
        recipient: "t@example.org",
        from: "Old <o@x>",
        to: null,
        subject: "Old news",
        messageId: null,
        size: null,
        tags: [],
        body: body as unknown as MailgunEvent,
      },
    ]);
    expect(await stored(domain, then)).toBe(25);
    const roundAgain = then + 31 * DAY;
    // Not rolled up yet: the purge leaves them.
    await purgeExpired(testEnv, roundAgain);
    expect(await stored(domain, then)).toBe(25);
    await rollUpStats(testEnv, then + DAY);
    // A budget of 2 chunks of 10 rows: interrupted with rows left.
    const first = await purgeExpired(testEnv, roundAgain, 2, 10);
    expect(first.unfinished).toBe(true);
    expect(await stored(domain, then)).toBe(25 - first.events);
    expect(first.events).toBeGreaterThan(0);
    // Later runs finish the job.
    const shard = (testEnv as unknown as Record<string, D1Database>)[(await directory(testEnv)).nameFor(domain, dayOf(then * 1000))]!;
    const leftIn = async (table: "event_parts" | "event_texts") => (await shard.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())!.n;
    expect(await leftIn("event_parts")).toBeGreaterThan(0);
    for (let run = 0; run < 10 && (await stored(domain, then)) > 0; run++) await purgeExpired(testEnv, roundAgain, 5, 10);
    expect(await stored(domain, then)).toBe(0);
    // Their parts went with them, and the subjects and senders with the last part (no other test writes that day).
    expect(await leftIn("event_parts")).toBe(0);
    expect(await leftIn("event_texts")).toBe(0);
  });

  it("hands the shards a run cannot empty to the rollups queue, whose consumer empties each and sends it on until it is done", async () => {
    const domain = uniqueDomain("qempty");
    await createDomain(domain);
    // 26 days back: a day no other test writes.
    const then = Date.now() - 26 * DAY;
    await seed(
      domain,
      Array.from({ length: 30 }, () => 26 * DAY),
    );
    expect(await stored(domain, then)).toBe(30);
    await rollUpStats(testEnv, then + DAY);
    const sent: unknown[] = [];
    const queueEnv = {
      ...testEnv,
      ROLLUPS: {
        send: async (body: unknown) => void sent.push(body),
        sendBatch: async (messages: Array<{ body: unknown }>) => void sent.push(...messages.map((m) => m.body)),
      },
    } as unknown as Env;
    const roundAgain = then + 31 * DAY;
    const shard = (await directory(testEnv)).nameFor(domain, dayOf(then * 1000));
    // One chunk of 5 rows: the run stops with the shard unfinished, and queues it.
    const run = await purgeExpired(queueEnv, roundAgain, 1, 5);
    expect(run.unfinished).toBe(true);
    expect(run.queued).toBe(sent.length);
    expect(sent).toContainEqual({ type: "empty", shard });
    // The consumer: 2 chunks of 5 rows a message, each message sent on while rows are left.
    let messages = 0;
    for (let round = 0; sent.length > 0 && round < 20; round++) {
      const bodies = sent.splice(0);
      messages += bodies.filter((body) => (body as { shard: string }).shard === shard).length;
      const batch = createMessageBatch(
        "tidings-rollups",
        bodies.map((body) => ({ id: randomId(), timestamp: new Date(), attempts: 1, body })),
      );
      await consumeRollups(batch, queueEnv, 1, { chunks: 2, chunkRows: 5, now: roundAgain });
    }
    expect(await stored(domain, then)).toBe(0);
    // 25 to 30 rows at 10 a message: the job was carried on by messages of its own.
    expect(messages).toBeGreaterThanOrEqual(3);
    expect(sent).toEqual([]);
  });

  it("honours VERP return paths as long as the domain's events, and at least RETURN_PATH_MIN_DAYS", async () => {
    const short = uniqueDomain("rpshort");
    const long = uniqueDomain("rplong");
    await createDomain(short);
    await createDomain(long);
    await api(`/v4/domains/${short}`, { method: "PUT", body: form({ retention_days: "2" }) });
    const now = Date.now();
    const ages = [3, RETURN_PATH_MIN_DAYS - 1, RETURN_PATH_MIN_DAYS + 1, 29, 31];
    for (const domain of [short, long]) {
      for (const age of ages)
        await saveReturnPaths(testEnv, domain, [{ id: `id${age}`.padEnd(16, "a"), messageId: `m${age}@x`, recipient: "r@example.org" }], now - age * DAY);
    }
    await purgeExpired(testEnv, now);
    const honoured = async (domain: string) => {
      const found: string[] = [];
      for (const age of ages) {
        const path = await findReturnPath(testEnv, domain, `id${age}`.padEnd(16, "a"), now);
        if (path) found.push(path.messageId);
      }
      return found;
    };
    expect(await honoured(short)).toEqual([`m3@x`, `m${RETURN_PATH_MIN_DAYS - 1}@x`]);
    // 31 days is past every retention: never stored.
    expect(await honoured(long)).toEqual([`m3@x`, `m${RETURN_PATH_MIN_DAYS - 1}@x`, `m${RETURN_PATH_MIN_DAYS + 1}@x`, "m29@x"]);
    expect((await storedRows("return_paths", long)).map((row) => row.message_id).sort()).toEqual(
      [`m${RETURN_PATH_MIN_DAYS + 1}@x`, "m29@x", `m3@x`, `m${RETURN_PATH_MIN_DAYS - 1}@x`].sort(),
    );
  });

  it("never purges suppressions", async () => {
    const domain = uniqueDomain("keep");
    await createDomain(domain);
    const state = testEnv.DOMAIN_STATE.get(testEnv.DOMAIN_STATE.idFromName(domain));
    await state.addBounces([{ address: "old@example.org", code: 550, error: "", createdAt: Date.now() - 400 * DAY }]);
    await purgeExpired(testEnv, Date.now());
    expect(valueOrThrow(await state.checkRecipients(["old@example.org"], []))[0]!.suppressed?.code).toBe(605);
  });
});

describe("the cron run's share of queries", () => {
  it("bounds the control database's own purge by queries, whatever the number of domains", async () => {
    // Legacy rows in the control database (a return path of before the shards, long past every retention).
    const domain = uniqueDomain("legacy-purge");
    await createDomain(domain);
    await testEnv.DB.prepare("INSERT INTO return_paths (domain, id, message_id, recipient, created_at) VALUES (?1, ?2, 'm@x', 'r@example.org', 0)")
      .bind(domain, randomId().slice(0, 16).toLowerCase())
      .run();
    // More domains than the budget allows three probes each.
    for (let i = 0; i < 40; i++) await createDomain(uniqueDomain("legacy-many"));
    // Counts calls to the database: a statement run on its own, or a batch (one call, as D1 counts it).
    let calls = 0;
    const counting = <T extends object>(target: T, runs: string[]): T =>
      new Proxy(target, {
        get(inner, key) {
          const value = Reflect.get(inner, key);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            if (runs.includes(String(key))) calls++;
            const result = value.apply(inner, args);
            return key === "prepare" || key === "bind" ? counting(result, ["first", "run", "all", "raw"]) : result;
          };
        },
      });
    const counted = counting(testEnv.DB, ["batch"]);
    const report = await purgeExpired({ ...testEnv, DB: counted }, Date.now(), 0);
    // No slot budget: the run stops before the legacy purge, with one query at most spent on it.
    expect(report.unfinished).toBe(true);
    calls = 0;
    await purgeExpired({ ...testEnv, DB: counted }, Date.now());
    const domains = (await testEnv.DB.prepare("SELECT count(*) AS n FROM domains").first<{ n: number }>())!.n;
    expect(domains * 3).toBeGreaterThan(LEGACY_PURGE_QUERIES_PER_RUN + 20);
    // The per-domain probes and deletes, the legacy check, the domain list, and the slots' few control reads.
    expect(calls).toBeLessThanOrEqual(LEGACY_PURGE_QUERIES_PER_RUN + 20);
  });
});
