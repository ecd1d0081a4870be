// Retention by cron: events (with their tags) and remembered messages past a domain's retention,
// and VERP return paths past it or RETURN_PATH_MIN_DAYS, are deleted in bounded chunks; newer rows
// and suppressions are never touched.
import { createExecutionContext, createMessageBatch, createScheduledController, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { purgeExpired, RETURN_PATH_MIN_DAYS } from "../../src/cron/retention";
import { loadMessageMetadata, messageKey, saveMessageMetadata, saveSentMessageMetadata } from "../../src/db/messages";
import { saveReturnPaths } from "../../src/db/return-paths";
import { randomId } from "../../src/domain/base64url";
import type { TrackingHitInput } from "../../src/domain/queue-messages";
import { valueOrThrow } from "../../src/domain/refusal";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { api, createDomain, form, uniqueDomain } from "../helpers";

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

const count = async (sql: string, domain: string) => (await testEnv.DB.prepare(sql).bind(domain).first<{ n: number }>())!.n;
const events = (domain: string) => count("SELECT count(*) AS n FROM events WHERE domain = ?", domain);
const tags = (domain: string) => count("SELECT count(*) AS n FROM event_tags WHERE domain = ?", domain);

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

  it("deletes what is past each domain's retention and nothing newer, from the cron handler", async () => {
    const short = uniqueDomain("short");
    const long = uniqueDomain("long");
    await createDomain(short);
    await createDomain(long);
    await api(`/v4/domains/${short}`, { method: "PUT", body: form({ retention_days: "2" }) });
    // Tags come from the remembered message of r0, so give every event one by saving metadata first.
    await seed(short, [3 * DAY, 2 * DAY + 60_000, 2 * DAY - 60_000, 1 * DAY, 0]);
    await seed(long, [3 * DAY, 31 * DAY, 29 * DAY]);
    const tagsBefore = await tags(short);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), testEnv, ctx);
    await waitOnExecutionContext(ctx);

    expect(await events(short)).toBe(3); // 2 days minus a minute, 1 day, now
    expect(await events(long)).toBe(2); // 3 and 29 days; 31 days is past 30
    expect(await tags(short)).toBeLessThanOrEqual(tagsBefore);
    const remaining = await testEnv.DB.prepare(
      "SELECT count(*) AS n FROM event_tags t WHERE t.domain = ? AND NOT EXISTS (SELECT 1 FROM events e WHERE e.domain = t.domain AND e.id = t.event_id)",
    )
      .bind(short)
      .first<{ n: number }>();
    expect(remaining!.n).toBe(0);
    // The 40-day-old remembered message is gone for both retentions.
    expect(await count("SELECT count(*) AS n FROM messages WHERE domain = ?", short)).toBe(0);
  });

  it("deletes a sent message's facts and its recipients' rows past retention, and keeps newer ones", async () => {
    const domain = uniqueDomain("facts");
    await createDomain(domain);
    const facts = (preparedAt: number) => ({
      tags: ["t"],
      userVariables: { v: "1" },
      headers: { to: "a@example.org, b@example.org", subject: "s" },
      preparedAt,
    });
    await saveSentMessageMetadata(testEnv, domain, "old@x", facts(Date.now() - 40 * DAY), [
      { recipient: "a@example.org", headers: { subject: "own" } },
      { recipient: "b@example.org" },
    ]);
    await saveSentMessageMetadata(testEnv, domain, "new@x", facts(Date.now() - DAY), [{ recipient: "a@example.org", userVariables: { v: "a" } }]);
    const key = (messageId: string, recipient: string) => ({ domain, messageId, recipient });
    const keys = [key("old@x", "a@example.org"), key("old@x", "b@example.org"), key("new@x", "a@example.org")];
    const before = await loadMessageMetadata(testEnv, keys);
    expect(keys.map((k) => before.get(messageKey(k))).map((m) => [m?.headers.subject, m?.userVariables.v])).toEqual([
      ["own", "1"],
      ["s", "1"],
      ["s", "a"],
    ]);
    const now = Date.now();
    for (let run = 0; run < 5 && (await purgeExpired(testEnv, now)).unfinished; run++);
    expect(await count("SELECT count(*) AS n FROM message_facts WHERE domain = ?", domain)).toBe(1);
    expect(await count("SELECT count(*) AS n FROM messages WHERE domain = ?", domain)).toBe(1);
    expect([...(await loadMessageMetadata(testEnv, [key("old@x", "a@example.org"), key("new@x", "b@example.org")])).values()].map((m) => m.headers.to)).toEqual(
      ["a@example.org, b@example.org"],
    );
  });

  it("works in bounded chunks and resumes where an interrupted purge stopped", async () => {
    const domain = uniqueDomain("chunks");
    await createDomain(domain);
    await seed(domain, [...Array.from({ length: 25 }, () => 40 * DAY), 1 * DAY]);
    const now = Date.now();
    // A budget of 2 chunks of 10 rows: interrupted with rows left.
    const first = await purgeExpired(testEnv, now, 2, 10);
    expect(first.unfinished).toBe(true);
    expect(await events(domain)).toBe(26 - first.events);
    // Later runs finish the job and never touch the 1-day-old event.
    for (let run = 0; run < 10 && (await events(domain)) > 1; run++) await purgeExpired(testEnv, now, 5, 10);
    expect(await events(domain)).toBe(1);
  });

  it("keeps VERP return paths as long as the domain's events, and at least RETURN_PATH_MIN_DAYS", async () => {
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
    const report = await purgeExpired(testEnv, now);
    expect(report.returnPaths).toBeGreaterThanOrEqual(4); // 8, 29 and 31 days for the first, 31 for the second
    const kept = async (domain: string) =>
      (
        await testEnv.DB.prepare("SELECT message_id FROM return_paths WHERE domain = ? ORDER BY created_at DESC").bind(domain).all<{ message_id: string }>()
      ).results.map((r) => r.message_id);
    expect(await kept(short)).toEqual([`m3@x`, `m${RETURN_PATH_MIN_DAYS - 1}@x`]);
    expect(await kept(long)).toEqual([`m3@x`, `m${RETURN_PATH_MIN_DAYS - 1}@x`, `m${RETURN_PATH_MIN_DAYS + 1}@x`, "m29@x"]);
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
