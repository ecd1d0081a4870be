// The stats rollup by cron: idempotent when it runs twice or two runs overlap, unique vs total,
// bot vs human, failures by reason, the per-domain tag cap, and rollup retention boundaries.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { purgeExpired } from "../../src/cron/retention";
import { rollUpStats } from "../../src/cron/rollups";

import { shardRolledUpTo } from "../../src/db/rollups";
import { directory } from "../../src/db/shards";
import { statsDatabases } from "../../src/db/stats-shards";
import { sumCounters } from "../../src/db/stats-store";
import { dayOf } from "../../src/domain/event-shards";
import { addMonths } from "../../src/domain/stats-time";
import worker from "../../src/index";
import { createDomain, runQueueBatch, uniqueDomain } from "../helpers";
import { APPLE_PROXY_UA, seedEvents, testEnv } from "../support/stats-seed";

const NOW = Date.now();

/** The rollup watermark of the shard holding a domain's events of the moment `ms`. */
async function watermarkOf(domain: string, ms: number): Promise<number> {
  const shard = (await directory(testEnv, ms)).nameFor(domain, dayOf(ms * 1000));
  return shardRolledUpTo(testEnv, shard, ms);
}

async function totals(domain: string, tag?: string) {
  const [row] = await sumCounters(testEnv, {
    source: "counters",
    resolution: "day",
    from: 0,
    to: Number.MAX_SAFE_INTEGER,
    domains: { negate: false, values: [domain] },
    tags: tag === undefined ? undefined : { negate: false, values: [tag] },
    groupBy: [],
  });
  return row;
}

async function bots(domain: string) {
  const rows = await sumCounters(testEnv, {
    source: "bot",
    resolution: "day",
    from: 0,
    to: Number.MAX_SAFE_INTEGER,
    domains: { negate: false, values: [domain] },
    groupBy: ["value"],
  });
  return Object.fromEntries(rows.map((r) => [r.value, { opened: r.opened, unique: r.opened_unique, clicked: r.clicked }]));
}

describe("stats rollup", () => {
  it("runs from the cron handler and counts each sub-type", async () => {
    const domain = uniqueDomain("roll");
    await createDomain(domain);
    await seedEvents(domain, [
      { event: "accepted", ms: NOW - 5000 },
      { event: "accepted", ms: NOW - 5000, recipient: "ann@example.org" },
      { event: "delivered", ms: NOW - 4000 },
      { event: "failed", ms: NOW - 4000, severity: "temporary", reason: "generic" },
      { event: "failed", ms: NOW - 4000, severity: "temporary", reason: "espblock" },
      { event: "failed", ms: NOW - 4000, reason: "bounce" },
      { event: "failed", ms: NOW - 4000, reason: "bounce", delayedBounce: true },
      { event: "failed", ms: NOW - 4000, reason: "suppress-unsubscribe" },
      { event: "failed", ms: NOW - 4000, reason: "old" },
      { event: "unsubscribed", ms: NOW - 3000 },
      { event: "complained", ms: NOW - 3000 },
    ]);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: NOW, cron: "*/5 * * * *" }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(await totals(domain)).toMatchObject({
      accepted_outgoing: 2,
      accepted_incoming: 0,
      delivered_smtp: 1,
      failed_temporary: 2,
      failed_temporary_espblock: 1,
      failed_permanent: 4,
      failed_permanent_bounce: 1,
      failed_permanent_delayed_bounce: 1,
      failed_permanent_suppress_unsubscribe: 1,
      failed_permanent_old: 1,
      unsubscribed: 1,
      complained: 1,
    });
  });

  it("counts nothing twice when it runs again or two runs overlap", async () => {
    const domain = uniqueDomain("twice");
    await createDomain(domain);
    await seedEvents(
      domain,
      Array.from({ length: 120 }, (_, i) => ({ event: "opened" as const, ms: NOW - 10_000 + i, recipient: `r${i % 40}@example.org` })),
    );
    // Small chunks so the two runs interleave over several chunks.
    const [a, b] = await Promise.all([rollUpStats(testEnv, NOW, { chunkEvents: 25 }), rollUpStats(testEnv, NOW, { chunkEvents: 25 })]);
    expect(a.skipped + b.skipped, "the two runs read the same chunk at least once").toBeGreaterThan(0);
    expect(await totals(domain)).toMatchObject({ opened: 120, opened_unique: 40 });
    const again = await rollUpStats(testEnv, NOW);
    expect(again.events).toBe(0);
    expect(await totals(domain)).toMatchObject({ opened: 120, opened_unique: 40 });
    // Later opens of the same messages add to the total only.
    await seedEvents(domain, [
      { event: "opened", ms: NOW, recipient: "r1@example.org" },
      { event: "opened", ms: NOW, recipient: "new@example.org" },
    ]);
    await rollUpStats(testEnv, NOW);
    expect(await totals(domain)).toMatchObject({ opened: 122, opened_unique: 41 });
  });

  it("does only bounded work per run and resumes from the watermark", async () => {
    const domain = uniqueDomain("bounded");
    await createDomain(domain);
    await rollUpStats(testEnv, NOW);
    const before = await watermarkOf(domain, NOW);
    await seedEvents(
      domain,
      Array.from({ length: 30 }, (_, i) => ({ event: "clicked" as const, ms: NOW - 1000 + i, messageId: `m${i}@x` })),
    );
    const first = await rollUpStats(testEnv, NOW, { chunkEvents: 10, chunksPerRun: 2, queueRest: false });
    expect(first).toMatchObject({ events: 20, chunks: 2, unfinished: true });
    expect((await totals(domain))!.clicked).toBe(20);
    await rollUpStats(testEnv, NOW, { chunkEvents: 10, chunksPerRun: 2, queueRest: false });
    expect(await totals(domain)).toMatchObject({ clicked: 30, clicked_unique: 30 });
    expect(await watermarkOf(domain, NOW)).toBeGreaterThan(before);
  });

  it("hands the shards a run cannot finish to the rollups queue, whose consumer finishes them", async () => {
    const domain = uniqueDomain("queued");
    await createDomain(domain);
    await rollUpStats(testEnv, NOW);
    await seedEvents(
      domain,
      Array.from({ length: 30 }, (_, i) => ({ event: "opened" as const, ms: NOW - 2000 + i, messageId: `q${i}@x` })),
    );
    const run = await rollUpStats(testEnv, NOW, { chunkEvents: 10, chunksPerRun: 1 });
    expect(run).toMatchObject({ chunks: 1, unfinished: true });
    expect(run.queued).toBeGreaterThan(0);
    // The local queue delivers the jobs to the Worker's consumer (wrangler.toml), which sends a job on
    // while its shard has events left: the counts reach every event without another cron run.
    while ((await totals(domain))?.opened !== 30) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await totals(domain)).toMatchObject({ opened: 30, opened_unique: 30 });
  });

  it("acks a malformed rollup or emptying job or one naming no bound shard, and changes nothing", async () => {
    const jobs = [
      { type: "rollup", shard: "EV_S999_K9" },
      { type: "rollup" },
      "x",
      { type: "empty", shard: "EV_S999_K9" },
      { type: "empty", shard: 7 },
      { type: "purge" },
    ];
    const { result } = await runQueueBatch("tidings-rollups", jobs, testEnv);
    expect(result.explicitAcks).toHaveLength(jobs.length);
    expect(result.retryMessages).toEqual([]);
  });

  it("counts bot hits apart from human ones", async () => {
    const domain = uniqueDomain("bots");
    await createDomain(domain);
    await seedEvents(domain, [
      { event: "opened", ms: NOW - 3000, userAgent: APPLE_PROXY_UA },
      { event: "opened", ms: NOW - 2000, userAgent: APPLE_PROXY_UA },
      { event: "opened", ms: NOW - 1000 },
      { event: "clicked", ms: NOW - 500, userAgent: "curl/8.0" },
    ]);
    await rollUpStats(testEnv, NOW);
    expect(await totals(domain)).toMatchObject({ opened: 3, opened_unique: 1, clicked: 1, clicked_unique: 1 });
    expect(await bots(domain)).toEqual({
      "": { opened: 1, unique: 1, clicked: 0 },
      apple: { opened: 2, unique: 1, clicked: 0 },
      generic: { opened: 0, unique: 0, clicked: 1 },
    });
  });

  it("keeps at most the tag limit per domain and drops the rest from tag stats", async () => {
    const domain = uniqueDomain("cap");
    await createDomain(domain);
    await seedEvents(domain, [
      { event: "delivered", ms: NOW - 3000, tags: ["One", "two"] },
      { event: "delivered", ms: NOW - 2000, tags: ["three"] },
      { event: "delivered", ms: NOW - 1000, tags: ["one"] },
    ]);
    await rollUpStats(testEnv, NOW, { tagLimit: 2 });
    const { results } = await statsDatabases(testEnv)
      .of(domain)
      .prepare("SELECT tag FROM tags WHERE domain = ? ORDER BY tag")
      .bind(domain)
      .all<{ tag: string }>();
    expect(results.map((r) => r.tag)).toEqual(["one", "two"]);
    expect((await totals(domain, "one"))!.delivered_smtp).toBe(2);
    expect(await totals(domain, "three")).toBeUndefined();
    expect((await totals(domain))!.delivered_smtp).toBe(3);
  });

  it("deletes hourly rollups after 2 months and daily ones after a year, and nothing newer", async () => {
    const domain = uniqueDomain("old");
    await createDomain(domain);
    const now = Math.floor(NOW / 1000);
    const hourlyCut = Math.floor(addMonths(now, -2) / 3600) * 3600;
    const dailyCut = Math.floor(addMonths(now, -12) / 86400) * 86400;
    const insert = (resolution: string, bucket: number) =>
      statsDatabases(testEnv)
        .of(domain)
        .prepare("INSERT INTO stats_counters (domain, tag, resolution, bucket, opened) VALUES (?, '', ?, ?, 1)")
        .bind(domain, resolution, bucket)
        .run();
    await insert("hour", hourlyCut - 3600);
    await insert("hour", hourlyCut);
    await insert("day", dailyCut - 86400);
    await insert("day", dailyCut);
    await insert("day", hourlyCut - 86400 * 3);
    await rollUpStats(testEnv, NOW, { purgeRows: 1 });
    const { results } = await statsDatabases(testEnv)
      .of(domain)
      .prepare("SELECT resolution, bucket FROM stats_counters WHERE domain = ? ORDER BY resolution, bucket")
      .bind(domain)
      .all();
    expect(results).toEqual([
      { resolution: "day", bucket: dailyCut },
      { resolution: "day", bucket: hourlyCut - 86400 * 3 },
      { resolution: "hour", bucket: hourlyCut },
    ]);
  });

  it("rolls up a shard before its slot is emptied, and an emptied slot never hands a rowid out again", async () => {
    const domain = uniqueDomain("rowid");
    await createDomain(domain);
    const DAY = 86_400_000;
    // 20 days back: a day no other test writes, so emptying its slot touches only these events.
    const then = NOW - 20 * DAY;
    await seedEvents(
      domain,
      [1, 2, 3].map((i) => ({ event: "delivered" as const, ms: then + i })),
    );
    // A purge the day the ring comes round to that slot again finds the events not yet counted and keeps them.
    const roundAgain = then + 31 * DAY;
    await purgeExpired(testEnv, roundAgain);
    const shard = (await directory(testEnv, NOW)).nameFor(domain, dayOf(then * 1000));
    const db = (testEnv as unknown as Record<string, D1Database>)[shard]!;
    const left = async () =>
      (
        await db
          .prepare("SELECT seq FROM events WHERE domain_id = (SELECT id FROM event_domains WHERE name = ?) ORDER BY seq")
          .bind(domain)
          .all<{ seq: number }>()
      ).results.map((r) => r.seq);
    expect(await left()).toHaveLength(3);
    // The rollup of that day counts them (a run on the day after looks at it as a recent day), then the purge empties them.
    await rollUpStats(testEnv, then + DAY);
    expect((await totals(domain))!.delivered_smtp).toBe(3);
    const watermark = await watermarkOf(domain, then);
    await purgeExpired(testEnv, roundAgain);
    expect(await left()).toEqual([]);
    // The same database takes the slot's next day: its rowids continue above the watermark.
    await seedEvents(domain, [{ event: "complained", ms: then + 32 * DAY }], then + 32 * DAY);
    const [seq] = await left();
    expect(seq).toBeGreaterThan(watermark);
    await rollUpStats(testEnv, then + 32 * DAY);
    expect((await totals(domain))!.complained).toBe(1);
  });
});
