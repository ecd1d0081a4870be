// The sharded event store (docs/storage.md, "Event shards"): events of many domains over many
// days land in many databases, and walking `next` to the end visits every event exactly once, in
// order, in both directions, for one domain (the Events API) and several (the Logs API's query);
// and a deployment that kept its events in the control database upgrades without losing one.
import { applyD1Migrations, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { insertEvents, listEvents, type PageMode, type StoredEvent } from "../../src/db/events-store";
import { directory, forgetDirectories } from "../../src/db/shards";
import type { EventQuery } from "../../src/domain/cursor";
import { DAY_US, dayOf, domainHash, LAYOUT_LEAD_DAYS } from "../../src/domain/event-shards";
import type { EventRow, MailgunEvent } from "../../src/domain/tracking-event";
import type { Env } from "../../src/env";
import { api, listEvents as apiEvents, createDomain, uniqueDomain } from "../helpers";

const testEnv = env as unknown as Env;
const DAY_MS = 86_400_000;

/** A seeded pseudo-random generator (mulberry32): a failure repeats. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function row(domain: string, ts: number, id: string): EventRow {
  const body = { id, event: "opened", timestamp: ts / 1e6, recipient: "r@example.org" } as unknown as MailgunEvent;
  return {
    id,
    domain,
    ts,
    event: "opened",
    severity: null,
    recipient: "r@example.org",
    from: null,
    to: null,
    subject: null,
    messageId: "m@x",
    size: null,
    tags: [],
    body,
  };
}

/** Follows `next` from the first page to an empty one, like a client paging to the end. */
async function walk(callEnv: Env, query: EventQuery): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  let mode: PageMode = "first";
  let anchor: [number, string] | undefined;
  for (;;) {
    const page = await listEvents(callEnv, query, mode, anchor);
    if (page.length === 0) return seen;
    expect(page.length).toBeLessThanOrEqual(query.limit);
    seen.push(...page);
    const last = page.at(-1)!;
    mode = "next";
    anchor = [last.ts, last.id];
  }
}

const order = (ascending: boolean) => (a: { ts: number; id: string }, b: { ts: number; id: string }) =>
  (ascending ? 1 : -1) * (a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

describe("event shards", () => {
  it("walks every event exactly once across days and databases, ascending and descending, for one domain and several", async () => {
    const next = random(20261129);
    // Three domains not all in the same database of a slot, so that days merge across databases.
    let domains: string[];
    do domains = [uniqueDomain("sha"), uniqueDomain("shb"), uniqueDomain("shc")];
    while (new Set(domains.map((d) => domainHash(d) % 2)).size < 2);
    for (const domain of domains) await createDomain(domain);
    const today = dayOf(Date.now() * 1000);
    const rows: EventRow[] = [];
    // 12 days (14 to 3 days back), 0 to 9 events a domain a day, some sharing a timestamp.
    for (let day = today - 14; day <= today - 3; day++) {
      for (const domain of domains) {
        const n = Math.floor(next() * 10);
        let ts = day * DAY_US + Math.floor(next() * 1000);
        for (let i = 0; i < n; i++) {
          if (next() > 0.2) ts += 1 + Math.floor(next() * (DAY_US / 20));
          rows.push(row(domain, Math.min(ts, (day + 1) * DAY_US - 1), `${Math.floor(next() * 1e9).toString(36)}${i}`));
        }
      }
    }
    // The first and last microsecond of a day, on either side of a day boundary.
    rows.push(row(domains[0]!, (today - 5) * DAY_US - 1, "edge-a"), row(domains[0]!, (today - 5) * DAY_US, "edge-b"));
    expect(await insertEvents(testEnv, rows)).toBe(rows.length);
    // Queues redeliver: a second write stores nothing twice.
    await insertEvents(testEnv, rows.slice(0, 20));

    const dir = await directory(testEnv);
    const shards = new Set(rows.map((r) => dir.nameFor(r.domain, dayOf(r.ts))));
    expect(shards.size).toBeGreaterThanOrEqual(8);
    expect(new Set(rows.map((r) => dayOf(r.ts))).size).toBeGreaterThanOrEqual(10);
    expect(new Set(domains.map((d) => dir.nameFor(d, today - 5))).size).toBeGreaterThan(1);

    for (const ascending of [true, false]) {
      for (const limit of [1, 3, 7, 300]) {
        const one = await walk(testEnv, { domain: domains[0]!, lo: null, hi: null, ascending, limit, filters: {} });
        expect(one.map((e) => e.id)).toEqual(
          rows
            .filter((r) => r.domain === domains[0])
            .sort(order(ascending))
            .map((r) => r.id),
        );
        const all = await walk(testEnv, { domain: domains[0]!, domains, lo: null, hi: null, ascending, limit, filters: {} });
        expect(all.map((e) => e.id)).toEqual([...rows].sort(order(ascending)).map((r) => r.id));
      }
    }
    // A range inside the days, and `previous` back from the end, give the same events.
    const lo = (today - 10) * DAY_US + DAY_US / 2;
    const hi = (today - 6) * DAY_US;
    const ranged = await walk(testEnv, { domain: domains[1]!, lo, hi, ascending: true, limit: 4, filters: {} });
    expect(ranged.map((e) => e.id)).toEqual(
      rows
        .filter((r) => r.domain === domains[1] && r.ts >= lo && r.ts <= hi)
        .sort(order(true))
        .map((r) => r.id),
    );
    const query: EventQuery = { domain: domains[2]!, lo: null, hi: null, ascending: true, limit: 5, filters: {} };
    const backwards: StoredEvent[] = [];
    let page = await listEvents(testEnv, query, "last");
    while (page.length > 0) {
      backwards.unshift(...page);
      page = await listEvents(testEnv, query, "previous", [page[0]!.ts, page[0]!.id]);
    }
    expect(backwards.map((e) => e.id)).toEqual(
      rows
        .filter((r) => r.domain === domains[2])
        .sort(order(true))
        .map((r) => r.id),
    );
    // And through the Events API's absolute paging URLs.
    const viaApi: string[] = [];
    let body = await apiEvents(domains[0]!, "limit=4&ascending=yes");
    while (body.items.length > 0) {
      viaApi.push(...body.items.map((item) => item.id as string));
      body = (await (await api(new URL(body.paging.next!).pathname)).json()) as typeof body;
    }
    expect(viaApi).toEqual(
      rows
        .filter((r) => r.domain === domains[0])
        .sort(order(true))
        .map((r) => r.id),
    );
  });

  it("upgrades a deployment whose events are in the control database: old days read from there, new days from the ring", async () => {
    const control = env.UPGRADE_TEST_DB;
    // The deployment before sharding: every migration up to 0010, with events of its own.
    await applyD1Migrations(
      control,
      env.TEST_MIGRATIONS.filter((m) => m.name < "0011"),
    );
    const upgradeEnv = { ...testEnv, DB: control } as Env;
    const domain = uniqueDomain("upg");
    // Its domain, as the Domains API made it (copied from the test database).
    await createDomain(domain);
    const record = (await testEnv.DB.prepare("SELECT * FROM domains WHERE name = ?1").bind(domain).first<Record<string, unknown>>())!;
    const columns = Object.keys(record);
    await control
      .prepare(`INSERT INTO domains (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)
      .bind(...columns.map((column) => record[column]))
      .run();
    const now = Date.now();
    const old = [5, 4, 3].map((daysAgo, i) => row(domain, (now - daysAgo * DAY_MS) * 1000, `old${i}`));
    await control.batch(
      old.map((r) =>
        control
          .prepare("INSERT INTO events (id, domain, ts, event, recipient, message_id, body) VALUES (?1, ?2, ?3, 'opened', ?4, 'm@x', ?5)")
          .bind(r.id, r.domain, r.ts, r.recipient, JSON.stringify(r.body)),
      ),
    );
    // The upgrade: migration 0011 records the unsharded layout, as events exist.
    await applyD1Migrations(control, env.TEST_MIGRATIONS);
    forgetDirectories(upgradeEnv);
    const dir = await directory(upgradeEnv, now);
    const today = dayOf(now * 1000);
    expect(dir.layouts.map((l) => [l.fromDay, l.slots])).toEqual([
      [0, 0],
      [today + LAYOUT_LEAD_DAYS, 32],
    ]);
    // The day keys cover its events from two days on (migrations/0013); a new deployment's from day 0.
    const since = "SELECT value FROM account_settings WHERE name = 'event_day_keys_since'";
    expect((await control.prepare(since).first<{ value: string }>())?.value).toBe(String(Math.floor(Date.now() / 86_400_000) + 2));
    expect((await env.DB.prepare(since).first<{ value: string }>())?.value).toBe("0");
    // Its keys were written to its stats databases (migrations/0014), which the cron compares with
    // where the Worker now writes them; a new deployment's are recorded by its first cron run.
    const at = "SELECT value FROM account_settings WHERE name = 'event_day_keys_at'";
    expect((await control.prepare(at).first<{ value: string }>())?.value).toBe("STATS");
    expect([undefined, "KEYS_2"]).toContain((await env.DB.prepare(at).first<{ value: string }>())?.value);
    // Until the ring starts, new events still go to the control database...
    const todayRow = row(domain, now * 1000, "today");
    await insertEvents(upgradeEnv, [todayRow], now);
    expect(dir.nameFor(domain, today)).toBe("DB");
    // ...and from its first day, to the ring.
    const later = now + (LAYOUT_LEAD_DAYS + 1) * DAY_MS;
    const laterRow = row(domain, later * 1000, "later");
    await insertEvents(upgradeEnv, [laterRow], later);
    expect(dir.nameFor(domain, dayOf(later * 1000))).toMatch(/^EV_S\d+_K\d$/);
    // Every event reads back, in order, across the two.
    const seen = await walk(upgradeEnv, { domain, lo: null, hi: null, ascending: true, limit: 2, filters: {} });
    expect(seen.map((e) => e.id)).toEqual(["old0", "old1", "old2", "today"]);
    // Read on that later day, the ring's event is there too.
    const afterwards = await listEvents(upgradeEnv, { domain, lo: null, hi: null, ascending: true, limit: 300, filters: {} }, "first", undefined, later);
    expect(afterwards.map((e) => e.id)).toEqual(["old0", "old1", "old2", "today", "later"]);
  });
});
