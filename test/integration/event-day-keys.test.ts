// The day keys (docs/storage.md, "Day keys"): a page of one domain skips the days' shards its
// filter's values are not on, and reads exactly what it reads without them. Differential: every
// filter walked to the end with the keys and with them switched off (their first day moved past
// every event) gives the same events in the same order, in both directions, with small pages.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { rollUpStats } from "../../src/cron/rollups";
import { DAY_KEYS_AT, DAY_KEYS_SINCE, keyDatabases, settleDayKeysLayout } from "../../src/db/event-day-keys";
import { LOOKUP_KEYS, UPSERT_COUNTED } from "../../src/db/event-day-keys-sql";
import { countEvents, eventReads, insertEvents, listEvents, type PageMode, type StoredEvent } from "../../src/db/events-store";
import type { EventQuery } from "../../src/domain/cursor";
import { dayKey } from "../../src/domain/event-day-keys";
import { dayOf, domainHash, firstStorableDay } from "../../src/domain/event-shards";
import { isKeysBinding, keysBinding } from "../../src/domain/key-databases";
import { isStatsBinding } from "../../src/domain/stats-shards";
import type { EventRow, MailgunEvent } from "../../src/domain/tracking-event";
import type { Env } from "../../src/env";
import { createDomain, shardRecordingEnv, uniqueDomain } from "../helpers";
import { seededRandom as random } from "../support/prng";

const testEnv = env as unknown as Env;
const DAY_US = 86_400_000_000;

const EVENTS = ["accepted", "delivered", "opened", "clicked", "complained", "failed"];
const TAGS = ["news", "vip", "promo", "receipt", "welcome", "digest"];

function row(domain: string, ts: number, id: string, pick: () => number): EventRow {
  const event = EVENTS[Math.floor(pick() * EVENTS.length)]!;
  const recipient = `user${Math.floor(pick() * 12)}@example.org`;
  const messageId = `${Math.floor(pick() * 25)}.keys@${domain}`;
  const tags = TAGS.filter(() => pick() < 0.25);
  const body = { id, event, timestamp: ts / 1e6, recipient, tags, message: { headers: { "message-id": messageId } } } as unknown as MailgunEvent;
  return { id, domain, ts, event, severity: null, recipient, from: null, to: null, subject: null, messageId, size: null, tags, body };
}

async function setSince(day: number | string): Promise<void> {
  await testEnv.DB.prepare("UPDATE account_settings SET value = ?2 WHERE name = ?1").bind(DAY_KEYS_SINCE, String(day)).run();
}

/** Counts the queries made to event shards through this env. */
function countingEnv(): { env: Env; shardQueries: () => number } {
  const recording = shardRecordingEnv(testEnv);
  return { env: recording.env, shardQueries: () => recording.sql.length };
}

async function walk(callEnv: Env, query: EventQuery, mode: "next" | "previous"): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  let current: PageMode = mode === "next" ? "first" : "last";
  let anchor: [number, string] | undefined;
  for (;;) {
    const page = await listEvents(callEnv, query, current, anchor);
    if (page.length === 0) return seen;
    if (mode === "next") seen.push(...page);
    else seen.unshift(...page);
    const edge = mode === "next" ? page.at(-1)! : page[0]!;
    current = mode;
    anchor = [edge.ts, edge.id];
  }
}

async function setKeysAt(layout: string | null): Promise<void> {
  if (layout === null) await testEnv.DB.prepare("DELETE FROM account_settings WHERE name = ?1").bind(DAY_KEYS_AT).run();
  else
    await testEnv.DB.prepare("INSERT INTO account_settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
      .bind(DAY_KEYS_AT, layout)
      .run();
}

async function setting(name: string): Promise<string | null> {
  return (await testEnv.DB.prepare("SELECT value FROM account_settings WHERE name = ?1").bind(name).first<{ value: string }>())?.value ?? null;
}

/**
 * Every filter walked to the end both ways in both directions, and counted, through a query for
 * each filter (small pages, so a walk crosses many day and shard boundaries).
 */
async function walkEvery(
  filters: Array<Record<string, string[]>>,
  queryOf: (filters: Record<string, string[]>) => Omit<EventQuery, "ascending" | "limit">,
): Promise<{ next: string[][]; previous: string[][]; counts: number[] }> {
  const out = { next: [] as string[][], previous: [] as string[][], counts: [] as number[] };
  for (const f of filters) {
    for (const ascending of [true, false]) {
      out.next.push((await walk(testEnv, { ...queryOf(f), ascending, limit: 5 }, "next")).map((e) => e.id));
      out.previous.push((await walk(testEnv, { ...queryOf(f), ascending, limit: 6 }, "previous")).map((e) => e.id));
      out.counts.push(await countEvents(testEnv, { ...queryOf(f), ascending, limit: 3 }));
    }
  }
  return out;
}

afterEach(async () => {
  await setSince(0);
  await setKeysAt(keyDatabases(testEnv).layout);
});

describe("day keys", () => {
  it("skip days without the filter's values and read exactly what a walk without them reads", async () => {
    const domain = uniqueDomain("keys");
    await createDomain(domain);
    const pick = random(20261130);
    const today = dayOf(Date.now() * 1000);
    const rows: EventRow[] = [];
    // 13 days (12 to 1 day back, and today's first microseconds), 0 to 7 events a day.
    for (let day = today - 12; day <= today; day++) {
      const n = Math.floor(pick() * 8);
      for (let i = 0; i < n; i++) rows.push(row(domain, day * DAY_US + (day === today ? i : Math.floor(pick() * 1000) * 1_000_000), `k${day}-${i}`, pick));
    }
    await insertEvents(testEnv, rows);
    const filters: Array<Record<string, string[]>> = [
      { recipient: [rows[0]!.recipient] },
      { recipient: [rows[1]!.recipient.toUpperCase()] },
      { recipient: [`${rows[2]!.recipient},${rows[3]!.recipient}`] },
      { recipient: ["nobody@nowhere.example"] },
      { "message-id": [rows[4]!.messageId!] },
      { "message-id": ["none@nowhere.example"] },
      { event: ["complained"] },
      { event: ["complained OR failed"] },
      { tags: ["vip"] },
      { tags: ["VIP AND news"] },
      { tags: ["(vip AND news) OR promo"] },
      { tags: ["NOT vip"] },
      { tags: ["never-used"] },
      { event: ["opened"], tags: ["digest"] },
      { recipient: [rows[5]!.recipient], "message-id": [`NOT ${rows[5]!.messageId}`] },
    ];
    const queryOf = (f: Record<string, string[]>) => ({ domain, lo: null, hi: null, filters: f });
    const withKeys = await walkEvery(filters, queryOf);
    await setSince(today + 100); // no day has keys: every day's shard is read
    const without = await walkEvery(filters, queryOf);
    expect(withKeys).toEqual(without);
    // Not vacuous: the walks found events, some filters many and some none.
    const found = without.next.map((ids) => ids.length);
    expect(found.filter((n) => n > 0).length).toBeGreaterThan(10);
    expect(found.filter((n) => n === 0).length).toBeGreaterThanOrEqual(3 * 2);
    expect(Math.max(...found)).toBeGreaterThan(20);
  });

  it("skip each domain's days without the filter's values on a page of several domains (the Logs API), reading what a walk without them reads", async () => {
    const domains = [uniqueDomain("keym"), uniqueDomain("keym"), uniqueDomain("keym")];
    for (const domain of domains) await createDomain(domain);
    const pick = random(20261201);
    const today = dayOf(Date.now() * 1000);
    const rows: EventRow[] = [];
    for (const [d, domain] of domains.entries()) {
      for (let day = today - 10; day <= today - 1; day++) {
        const n = Math.floor(pick() * 5);
        for (let i = 0; i < n; i++) rows.push(row(domain, day * DAY_US + Math.floor(pick() * 1000) * 1_000_000 + d, `m${d}-${day}-${i}`, pick));
      }
    }
    await insertEvents(testEnv, rows);
    const filters: Array<Record<string, string[]>> = [
      { recipient: [rows[0]!.recipient] },
      { recipient: [`${rows[1]!.recipient},${rows.at(-1)!.recipient}`] },
      { recipient: ["nobody@nowhere.example"] },
      { event: ["complained OR failed"] },
      { tags: ["vip AND news"] },
      { tags: ["NOT promo"] },
      { event: ["opened"], tags: ["digest"] },
      { "message-id": [rows.at(-2)!.messageId!] },
    ];
    const queryOf = (f: Record<string, string[]>) => ({ domain: domains[0]!, domains, lo: null, hi: null, filters: f });
    const query = (f: Record<string, string[]>, ascending: boolean, limit: number): EventQuery => ({ ...queryOf(f), ascending, limit });
    const withKeys = await walkEvery(filters, queryOf);
    await setSince(today + 100);
    const without = await walkEvery(filters, queryOf);
    expect(withKeys).toEqual(without);
    const found = without.next.map((ids) => ids.length);
    expect(found.filter((n) => n > 0).length).toBeGreaterThan(6);
    expect(found.filter((n) => n === 0).length).toBeGreaterThanOrEqual(2);
    // Events of more than one domain were found by one walk (the recipients are shared).
    expect(new Set(without.next[0]!.map((id) => id.split("-")[0])).size).toBeGreaterThanOrEqual(2);
    await setSince(0);
    // A value on no day of any domain: no shard is asked; one domain's value: only its days' shards.
    const none = countingEnv();
    expect(await listEvents(none.env, query({ recipient: ["nobody@nowhere.example"] }, false, 10), "first")).toEqual([]);
    expect(none.shardQueries()).toBe(0);
    const rare = { ...row(domains[2]!, (today - 6) * DAY_US + 7, "multi-rare", pick), recipient: "multi-rare@example.org" };
    await insertEvents(testEnv, [rare]);
    const one = countingEnv();
    expect((await listEvents(one.env, query({ recipient: ["multi-rare@example.org"] }, false, 10), "first")).map((e) => e.id)).toEqual(["multi-rare"]);
    expect(one.shardQueries()).toBe(1);
  });

  it("ask only the days' shards that hold a value, and none for a value on no day", async () => {
    const domain = uniqueDomain("keyq");
    await createDomain(domain);
    const today = dayOf(Date.now() * 1000);
    const pick = random(7);
    const rows: EventRow[] = [];
    for (let day = today - 12; day <= today - 1; day++) for (let i = 0; i < 3; i++) rows.push(row(domain, day * DAY_US + i, `q${day}-${i}`, pick));
    const rare = { ...row(domain, (today - 9) * DAY_US + 5, "rare-1", pick), recipient: "rare@example.org" };
    const rare2 = { ...row(domain, (today - 4) * DAY_US + 5, "rare-2", pick), recipient: "rare@example.org" };
    await insertEvents(testEnv, [...rows, rare, rare2]);
    const query = (recipient: string): EventQuery => ({ domain, lo: null, hi: null, ascending: false, limit: 100, filters: { recipient: [recipient] } });

    const none = countingEnv();
    expect(await listEvents(none.env, query("nobody@nowhere.example"), "first")).toEqual([]);
    expect(none.shardQueries()).toBe(0);

    const sparse = countingEnv();
    expect((await listEvents(sparse.env, query("rare@example.org"), "first")).map((e) => e.id)).toEqual(["rare-2", "rare-1"]);
    expect(sparse.shardQueries()).toBe(2);

    // Without keys for these days, every readable day's shard is asked.
    await setSince(today + 100);
    const blind = countingEnv();
    expect(await listEvents(blind.env, query("nobody@nowhere.example"), "first")).toEqual([]);
    expect(blind.shardQueries()).toBeGreaterThan(12);
  });

  it("read the days before their first whole, for events stored before the keys", async () => {
    const domain = uniqueDomain("keyu");
    await createDomain(domain);
    const today = dayOf(Date.now() * 1000);
    const old = { ...row(domain, (today - 5) * DAY_US + 1, "before-keys", random(1)), recipient: "old@example.org" };
    await insertEvents(testEnv, [old]);
    // As if stored by a Worker from before the keys: the day has none.
    await keyDatabases(testEnv)
      .of(domain)
      .prepare("DELETE FROM event_day_keys WHERE day = ?1")
      .bind(today - 5)
      .run();
    const query: EventQuery = { domain, lo: null, hi: null, ascending: true, limit: 10, filters: { recipient: ["old@example.org"] } };
    await setSince(today - 4);
    expect((await listEvents(testEnv, query, "first")).map((e) => e.id)).toEqual(["before-keys"]);
    await setSince(today - 5);
    expect(await listEvents(testEnv, query, "first")).toEqual([]);
  });

  it("count a busy event within an eighth of its events, written with its first event and then far fewer times than batches", async () => {
    const domain = uniqueDomain("keyc");
    await createDomain(domain);
    let upserts = 0;
    const wrapped: Record<string, unknown> = { ...testEnv };
    for (const [name, value] of Object.entries(testEnv)) {
      if (!isKeysBinding(name)) continue;
      const db = value as D1Database;
      wrapped[name] = {
        prepare: (sql: string) => {
          if (sql === UPSERT_COUNTED) upserts++;
          return db.prepare(sql);
        },
        batch: (statements: D1PreparedStatement[]) => db.batch(statements),
      };
    }
    const callEnv = wrapped as unknown as Env;
    const day = dayOf(Date.now() * 1000) - 2;
    const key = dayKey(domain, "event", "opened");
    const stored = async () =>
      (await keyDatabases(testEnv).of(domain).prepare("SELECT n FROM event_day_keys WHERE day = ?1 AND key = ?2").bind(day, key).first<{ n: number }>())?.n;
    const pick = random(3);
    const BATCHES = 60;
    for (let b = 0; b < BATCHES; b++) {
      const rows = Array.from({ length: 10 }, (_, i) => ({ ...row(domain, day * DAY_US + b * 100 + i, `c${b}-${i}`, pick), event: "opened", tags: [] }));
      await insertEvents(callEnv, rows);
      if (b === 0) expect(await stored()).toBe(10);
    }
    const n = (await stored())!;
    expect(n).toBeLessThanOrEqual(BATCHES * 10);
    expect(n).toBeGreaterThanOrEqual((BATCHES * 10 * 7) / 8);
    // The opened key is the batches' only counted key (no tags): written with each of the first 8
    // batches, then about every (1 + 1/8)th growth of its count.
    expect(upserts).toBeLessThanOrEqual(30);
  });

  it("are found by their primary key, and purged with the days that left the ring", async () => {
    const domain = uniqueDomain("keyp");
    const db = keyDatabases(testEnv).of(domain);
    const plan = await db.prepare(`EXPLAIN QUERY PLAN ${LOOKUP_KEYS}`).bind("[1,2]", "[3]").all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join("\n")).toMatch(/SEARCH event_day_keys USING PRIMARY KEY \(day=\? AND key=\?\)/);

    const now = Date.now();
    const gone = firstStorableDay(now) - 1;
    const key = dayKey(domain, "recipient", "p@example.org");
    await db.batch([
      db.prepare("INSERT INTO event_day_keys (day, key, n) VALUES (?1, ?2, 1)").bind(gone, key),
      db.prepare("INSERT INTO event_day_keys (day, key, n) VALUES (?1, ?2, 1)").bind(gone + 1, key),
    ]);
    await rollUpStats(testEnv, now);
    const left = await db.prepare("SELECT day FROM event_day_keys WHERE key = ?1 ORDER BY day").bind(key).all<{ day: number }>();
    expect(left.results.map((r) => r.day)).toEqual([gone + 1]);
  });

  it("are written to the domain's key database, not its stats database", async () => {
    const domain = uniqueDomain("keyk");
    await createDomain(domain);
    const day = dayOf(Date.now() * 1000) - 1;
    await insertEvents(testEnv, [{ ...row(domain, day * DAY_US + 5, "kk-1", random(7)), recipient: "kk@example.org" }]);
    const keys = keyDatabases(testEnv);
    expect(keys.count).toBe(2);
    expect(keys.nameOf(domain)).toBe(keysBinding(domainHash(domain) % 2));
    const key = dayKey(domain, "recipient", "kk@example.org");
    const holding: string[] = [];
    for (const [name, db] of Object.entries(testEnv)) {
      if (!isKeysBinding(name) && !isStatsBinding(name) && name !== "DB") continue;
      const found = await (db as D1Database).prepare("SELECT 1 AS x FROM event_day_keys WHERE day = ?1 AND key = ?2").bind(day, key).first();
      if (found) holding.push(name);
    }
    expect(holding).toEqual([keys.nameOf(domain)]);
  });

  it("read every day whole once the keys have moved, until the cron has moved their first day two days on", async () => {
    const domain = uniqueDomain("keym");
    await createDomain(domain);
    const now = Date.now();
    const today = dayOf(now * 1000);
    await insertEvents(testEnv, [{ ...row(domain, (today - 3) * DAY_US + 5, "km-1", random(8)), recipient: "km@example.org" }]);
    const query: EventQuery = { domain, lo: null, hi: null, ascending: true, limit: 10, filters: { recipient: ["nobody@nowhere.example"] } };
    const shardQueries = async () => {
      const counting = countingEnv();
      expect(await listEvents(counting.env, query, "first", undefined, now)).toEqual([]);
      return counting.shardQueries();
    };
    // Recorded where this Worker writes them: the keys rule every day out.
    expect(await shardQueries()).toBe(0);
    // Unset (a deployment new when migrations/0014 ran): trusted, and the cron records the layout without moving the first day.
    await setKeysAt(null);
    expect(await shardQueries()).toBe(0);
    await settleDayKeysLayout(testEnv, now);
    expect(await setting(DAY_KEYS_AT)).toBe("KEYS_2");
    expect(await setting(DAY_KEYS_SINCE)).toBe("0");
    // Written elsewhere until now (the stats databases, before the key databases): no day is skipped.
    await setKeysAt("STATS");
    expect(await shardQueries()).toBeGreaterThan(12);
    await settleDayKeysLayout(testEnv, now);
    expect(await setting(DAY_KEYS_AT)).toBe("KEYS_2");
    expect(await setting(DAY_KEYS_SINCE)).toBe(String(today + 2));
    // Now read by the layout's rules: every day before the first the keys cover is read whole.
    expect(await shardQueries()).toBeGreaterThan(12);
    // Settled: a later run changes nothing.
    await settleDayKeysLayout(testEnv, now + 3 * 86_400_000);
    expect(await setting(DAY_KEYS_SINCE)).toBe(String(today + 2));
    // Two days on, the days from the new first one are skipped again (here: none before it is read whole).
    await setSince(today - 40);
    expect(await shardQueries()).toBe(0);
  });

  it("are purged in every database that has them, a run's purges further on each run", async () => {
    const now = Date.now();
    const gone = firstStorableDay(now) - 1;
    const key = dayKey(uniqueDomain("keyr"), "recipient", "r@example.org");
    const holders = Object.entries(testEnv).filter(([name]) => isKeysBinding(name) || isStatsBinding(name) || name === "DB") as Array<[string, D1Database]>;
    expect(holders.length).toBe(5);
    for (const [, db] of holders) await db.prepare("INSERT INTO event_day_keys (day, key, n) VALUES (?1, ?2, 1)").bind(gone, key).run();
    const left = async () => {
      const names: string[] = [];
      for (const [name, db] of holders) if (await db.prepare("SELECT 1 AS x FROM event_day_keys WHERE key = ?1").bind(key).first()) names.push(name);
      return names;
    };
    // 17 (database, table) pairs here (2 stats databases and the control database x 5 tables, 2
    // key databases x 1): at 5 purges a run, four successive runs reach every one. Starting each
    // run from the first, the control database and the key databases were never reached.
    for (let run = 0; run < 4; run++) await rollUpStats(testEnv, now + run * 300_000, { purgesPerRun: 5 });
    expect(await left()).toEqual([]);
  });
});

describe("a page and its total (the Logs API's include_totals)", () => {
  it("share their lookups: each shard's text index is asked once for both", async () => {
    const domains = [uniqueDomain("tot"), uniqueDomain("tot")];
    for (const domain of domains) await createDomain(domain);
    const today = dayOf(Date.now() * 1000);
    const pick = random(11);
    const rows: EventRow[] = [];
    for (const domain of domains) {
      for (let back = 1; back <= 3; back++) {
        for (let i = 0; i < 3; i++)
          rows.push({ ...row(domain, (today - back) * DAY_US + 1000 + i, `tot-${domain}-${back}-${i}`, pick), subject: "Hello there" });
      }
    }
    await insertEvents(testEnv, rows);
    const now = Date.now();
    const query: EventQuery = { domain: domains[0]!, domains, lo: null, hi: null, ascending: true, limit: 5, filters: { subject: ["hello"] } };
    // Counts the text-index counts (sparsestTextMatch) made through an env.
    const counting = () => {
      const recording = shardRecordingEnv(testEnv);
      return { env: recording.env, asked: () => recording.sql.filter((sql) => /count\(\*\) AS n FROM \(SELECT 1 FROM events_text_/.test(sql)).length };
    };
    const page = counting();
    expect(await listEvents(page.env, query, "first", undefined, now)).toHaveLength(5);
    const total = counting();
    expect(await countEvents(total.env, query, now)).toBe(rows.length);
    expect(page.asked()).toBeGreaterThan(0);
    const apart = counting();
    await listEvents(apart.env, query, "first", undefined, now);
    await countEvents(apart.env, query, now);
    expect(apart.asked()).toBe(page.asked() + total.asked());
    const shared = counting();
    const reads = eventReads();
    const [items, n] = await Promise.all([listEvents(shared.env, query, "first", undefined, now, reads), countEvents(shared.env, query, now, reads)]);
    expect(items.map((e) => e.id)).toEqual((await listEvents(testEnv, query, "first", undefined, now)).map((e) => e.id));
    expect(n).toBe(rows.length);
    // The count reads every day's shards, the page some of them: together, what the count alone asks.
    expect(shared.asked()).toBe(total.asked());
    expect(shared.asked()).toBeLessThan(apart.asked());
  });
});
