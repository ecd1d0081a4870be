// The stats databases (docs/storage.md, "Stats databases"): a domain's rollups land in the stats
// database its hash picks and nowhere else; reads over several domains merge databases; the
// control database's rollups from before the split are still counted; its events of before the
// shards are rolled up once each into their domains' databases; and a stats database's first
// rollup of a shard carries on from the control database's watermark.
import { describe, expect, it } from "vitest";
import { rollUpStats } from "../../src/cron/rollups";
import { insertEvents } from "../../src/db/events-store";
import { rollUpChunk, shardRolledUpTo } from "../../src/db/rollups";
import { directory } from "../../src/db/shards";
import { statsDatabases } from "../../src/db/stats-shards";
import { sumCounters } from "../../src/db/stats-store";
import { CONTROL_DATABASE, dayOf } from "../../src/domain/event-shards";
import { toEventRow } from "../../src/domain/tracking-event";
import { api, createDomain, legacyEventStatements, uniqueDomain } from "../helpers";
import { buildEvent, seedEvents, testEnv } from "../support/stats-seed";

const NOW = Date.now();
const stats = () => statsDatabases(testEnv);

/** A new domain whose stats database is `name`. */
function domainIn(name: string, prefix: string): string {
  for (;;) {
    const domain = uniqueDomain(prefix);
    if (stats().nameOf(domain) === name) return domain;
  }
}

async function countersIn(db: D1Database, domain: string): Promise<number> {
  return (await db.prepare("SELECT count(*) AS n FROM stats_counters WHERE domain = ?1").bind(domain).first<{ n: number }>())!.n;
}

async function total(domains: string[], groupBy: Array<"domain"> = []) {
  return sumCounters(testEnv, {
    source: "counters",
    resolution: "day",
    from: 0,
    to: Number.MAX_SAFE_INTEGER,
    domains: { negate: false, values: domains },
    groupBy,
  });
}

describe("stats databases", () => {
  it("are the bindings' STATS_0 and STATS_1 here, as npm run shards wrote them", () => {
    expect(stats().count).toBe(2);
    expect(stats().names).toEqual(["STATS_0", "STATS_1"]);
  });

  it("keep a domain's counters and tags in its own stats database only, and merge several domains' on read", async () => {
    const [a, b] = [domainIn("STATS_0", "sdb-a"), domainIn("STATS_1", "sdb-b")];
    for (const domain of [a, b]) await createDomain(domain);
    await seedEvents(a, [
      { event: "delivered", ms: NOW - 3000, tags: ["Shared-Tag"] },
      { event: "opened", ms: NOW - 2000, tags: ["shared-tag"] },
    ]);
    await seedEvents(b, [{ event: "delivered", ms: NOW - 1000, tags: ["shared-tag", "only-b"] }]);
    await rollUpStats(testEnv, NOW, { queueRest: false });

    const [s0, s1] = [stats().database("STATS_0"), stats().database("STATS_1")];
    expect(await countersIn(s0, a)).toBeGreaterThan(0);
    expect(await countersIn(s1, a)).toBe(0);
    expect(await countersIn(testEnv.DB, a)).toBe(0);
    expect(await countersIn(s1, b)).toBeGreaterThan(0);
    expect(await countersIn(s0, b)).toBe(0);

    const [both] = await total([a, b]);
    expect(both!.delivered_smtp).toBe(2);
    expect(both!.opened).toBe(1);
    const byDomain = await total([a, b], ["domain"]);
    expect(byDomain.map((row) => [row.domain, row.delivered_smtp])).toEqual([a, b].sort().map((domain) => [domain, 1]));

    // The per-domain Stats API reads the domain's database.
    const response = await api(`/v3/${b}/stats/total?event=delivered&duration=1d`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { stats: Array<{ delivered: { total: number } }> };
    expect(body.stats.reduce((sum, day) => sum + day.delivered.total, 0)).toBe(1);

    // The account's tag list merges one name held in both databases into one item.
    const listed = await api("/v1/analytics/tags", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pagination: { sort: "lastseen:desc", limit: 100 } }),
    });
    const tags = (await listed.json()) as { items: Array<{ tag: string }> };
    expect(tags.items.filter((item) => item.tag === "shared-tag")).toHaveLength(1);
    // And a domain's own tag list shows its own tags only.
    const own = (await (await api(`/v3/${b}/tags`)).json()) as { items: Array<{ tag: string }> };
    expect(own.items.map((item) => item.tag).sort()).toEqual(["only-b", "shared-tag"]);
  });

  it("still count what the control database rolled up before the split", async () => {
    const domain = domainIn("STATS_1", "sdb-old");
    await createDomain(domain);
    const day = Math.floor(NOW / 86_400_000) * 86_400;
    await testEnv.DB.prepare("INSERT INTO stats_counters (domain, tag, resolution, bucket, opened) VALUES (?1, '', 'day', ?2, 5)").bind(domain, day).run();
    await seedEvents(domain, [{ event: "opened", ms: NOW - 1000 }]);
    await rollUpStats(testEnv, NOW, { queueRest: false });
    const [row] = await total([domain]);
    expect(row!.opened).toBe(6);
  });

  it("take over the control database's tags and seen-set of before the split", async () => {
    const domain = domainIn("STATS_1", "sdb-move");
    await createDomain(domain);
    const earlier = NOW - 86_400_000;
    await testEnv.DB.prepare("INSERT INTO tags (domain, tag, description, first_seen, last_seen) VALUES (?1, 'spring', 'Spring sale', ?2, ?2)")
      .bind(domain, earlier)
      .run();
    await testEnv.DB.prepare("INSERT INTO stats_seen (domain, message_id, recipient, scope, first_seen) VALUES (?1, 'old@x', 'bob@example.org', 'opened', ?2)")
      .bind(domain, Math.floor(earlier / 1000))
      .run();
    // Opened before the split (the seen-set says so) and again now: not a unique open a second time.
    await seedEvents(domain, [{ event: "opened", ms: NOW - 1000, messageId: "old@x", tags: ["spring"] }]);
    await rollUpStats(testEnv, NOW, { queueRest: false });

    const [row] = await total([domain]);
    expect(row).toMatchObject({ opened: 1, opened_unique: 0 });
    const tag = (await (await api(`/v3/${domain}/tags/spring`)).json()) as { description: string; "first-seen": string };
    expect(tag.description).toBe("Spring sale");
    expect(new Date(tag["first-seen"]).getTime()).toBeLessThanOrEqual(earlier);
    for (const table of ["tags", "stats_seen"]) {
      const left = await testEnv.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE domain = ?1`).bind(domain).first<{ n: number }>();
      expect(left!.n).toBe(0);
    }
  });

  it("roll the control database's events of before the shards into each domain's own database, once", async () => {
    const [a, b] = [domainIn("STATS_0", "sdb-legacy-a"), domainIn("STATS_1", "sdb-legacy-b")];
    for (const domain of [a, b]) await createDomain(domain);
    // Written straight into the control database's events table, as a deployment before the shards had them.
    for (const [domain, ms] of [
      [a, NOW - 5000],
      [b, NOW - 4000],
      [b, NOW - 3000],
    ] as const) {
      const row = toEventRow(domain, buildEvent(domain, { event: "delivered", ms }));
      await testEnv.DB.batch(legacyEventStatements(testEnv.DB, row));
    }
    await rollUpStats(testEnv, NOW, { queueRest: false });
    await rollUpStats(testEnv, NOW, { queueRest: false });
    expect((await total([a]))[0]!.delivered_smtp).toBe(1);
    expect((await total([b]))[0]!.delivered_smtp).toBe(2);
    expect(await countersIn(stats().database("STATS_1"), a)).toBe(0);
    expect(await countersIn(stats().database("STATS_0"), b)).toBe(0);
    // Each stats database keeps its own watermark of the control database's events; both are past them.
    const last = (await testEnv.DB.prepare("SELECT max(rowid) AS m FROM events").first<{ m: number }>())!.m;
    expect(await shardRolledUpTo(testEnv, CONTROL_DATABASE, NOW)).toBeGreaterThanOrEqual(last);
  });

  it("start a shard's first rollup from the control database's watermark for it", async () => {
    const domain = domainIn("STATS_0", "sdb-mark");
    await createDomain(domain);
    const [first, second] = [NOW - 2000, NOW - 1000].map((ms) => toEventRow(domain, buildEvent(domain, { event: "opened", ms, messageId: `m${ms}@x` })));
    await insertEvents(testEnv, [first!, second!], NOW);
    const shard = (await directory(testEnv, NOW)).nameFor(domain, dayOf(NOW * 1000));
    const source = (await directory(testEnv, NOW)).database(shard);
    const firstRowid = (await source.prepare("SELECT rowid AS r FROM events WHERE id = ?1").bind(first!.id).first<{ r: number }>())!.r;
    // The control database had counted up to the first event (under a name no stats database has yet).
    const name = `events:upgrade-${crypto.randomUUID()}`;
    await testEnv.DB.prepare("INSERT INTO rollup_state (name, last_rowid) VALUES (?1, ?2)").bind(name, firstRowid).run();
    const target = { db: stats().database("STATS_0"), keep: (d: string) => d === domain };
    const chunk = await rollUpChunk(target, testEnv.DB, source, name, 1, 100);
    expect(chunk).toMatchObject({ read: 1, counted: 1, committed: true });
    const mark = await target.db.prepare("SELECT last_rowid AS w FROM rollup_state WHERE name = ?1").bind(name).first<{ w: number }>();
    expect(mark!.w).toBeGreaterThan(firstRowid);
  });
});
