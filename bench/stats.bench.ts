// Figures for issue 4's stats (read them as ratios and orders of magnitude: the machine is shared):
//  1. p50/p95 Stats API latency for 6 months of daily stats and 2 months of hourly stats of one
//     domain, every event type asked for (rollup rows seeded in bulk, 40 tags beside them);
//  2. the cron's cost to roll up 10,000 new events when no events are stored before them, against
//     when 1,000,000 are (seeded with one recursive-CTE INSERT, plus 300,000 seen-set rows, with
//     the watermark put past them): cost should follow the new events only.
import { expect, it } from "vitest";
import { rollUpStats } from "../src/cron/rollups";
import { insertEvents } from "../src/db/events-store";
import { setShardWatermark } from "../src/db/rollups";
import { directory } from "../src/db/shards";
import { statsDatabases } from "../src/db/stats-shards";
import { randomId } from "../src/domain/base64url";
import { dayOf } from "../src/domain/event-shards";
import { messageKeySql } from "../src/domain/lean-event";
import { acceptedEvent, deliveredEvent } from "../src/domain/send-events";
import { buildTrackingEvent, type MailgunEvent, toEventRow } from "../src/domain/tracking-event";
import { AUTH, benchEnv, call, median, percentile, report } from "./harness";

const DOMAIN = "stats-bench.example.com";
const QUERY_RUNS = 40;
const NEW_EVENTS = 10_000;
const STORED_EVENTS = 1_000_000;
const STORED_SEEN = 300_000;
const ROLLUP_RUNS = 5;
const DAY_S = 86_400;
const EVENTS_QUERY = "event=accepted&event=delivered&event=failed&event=opened&event=clicked&event=unsubscribed&event=complained";

/** One row per bucket for the domain ('' tag) and for 40 tags, with every counter non-zero. */
async function seedRollups(resolution: "hour" | "day", from: number, count: number, step: number): Promise<void> {
  await statsDatabases(benchEnv)
    .of(DOMAIN)
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1),
       k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 40),
       t(tag) AS (SELECT CASE j WHEN 0 THEN '' ELSE 'tag' || j END FROM k)
     INSERT OR IGNORE INTO stats_counters (domain, tag, resolution, bucket, accepted_outgoing, delivered_smtp, failed_temporary,
       failed_permanent, failed_permanent_bounce, opened, opened_unique, clicked, clicked_unique, unsubscribed, complained)
     SELECT ?2, tag, ?3, ?4 + i * ?5, 100, 95, 3, 2, 2, 60, 40, 20, 10, 1, 1 FROM n, t`,
    )
    .bind(count, DOMAIN, resolution, from, step)
    .run();
}

it("Stats API latency over 6 months daily and 2 months hourly", async () => {
  expect((await call("http://127.0.0.1/v4/domains", { method: "POST", headers: AUTH, body: new URLSearchParams({ name: DOMAIN }) })).status).toBe(200);
  const now = Math.floor(Date.now() / 1000);
  const today = Math.floor(now / DAY_S) * DAY_S;
  await seedRollups("day", today - 183 * DAY_S, 184, DAY_S);
  await seedRollups("hour", today - 61 * DAY_S, 62 * 24, 3600);
  const latency = async (query: string, buckets: number) => {
    const samples: number[] = [];
    for (let i = 0; i < QUERY_RUNS + 5; i++) {
      const began = performance.now();
      const response = await call(`http://127.0.0.1/v3/${DOMAIN}/stats/total?${query}`, { headers: AUTH });
      const text = await response.text();
      if (i >= 5) samples.push(performance.now() - began); // until the whole answer is in; parsing it is the client's
      const body = JSON.parse(text) as { stats: Array<{ opened: { total: number } }> };
      if (response.status !== 200 || body.stats.length !== buckets || body.stats[buckets - 2]!.opened.total !== 60)
        throw new Error(`${query}: ${response.status}`);
    }
    return samples;
  };
  const daily = await latency(`${EVENTS_QUERY}&start=${today - 183 * DAY_S}&end=${now}&resolution=day`, 184);
  const hourly = await latency(`${EVENTS_QUERY}&start=${today - 61 * DAY_S}&end=${now}&resolution=hour`, 61 * 24 + Math.floor((now - today) / 3600) + 1);
  report("Stats API, 6 months daily (184 buckets), p50 / p95 (ms)", `${percentile(daily, 50).toFixed(1)} / ${percentile(daily, 95).toFixed(1)}`);
  report(`Stats API, 2 months hourly (${61 * 24}+ buckets), p50 / p95 (ms)`, `${percentile(hourly, 50).toFixed(1)} / ${percentile(hourly, 95).toFixed(1)}`);
});

/** 10,000 events like a day of mail: accepted, delivered, opens (some by the Apple proxy), clicks, tagged. */
function newEvents(domain: string, round: number): MailgunEvent[] {
  const t0 = Date.now() - 3_600_000;
  return Array.from({ length: NEW_EVENTS }, (_, i) => {
    const recipient = `reader${i % 2500}@example.org`;
    const messageId = `r${round}-m${i % 2500}@bench`;
    const facts = { domain, messageId, headers: { to: recipient, subject: "Bench" }, tags: [`campaign${i % 7}`, "newsletter"], userVariables: {} };
    const at = { id: randomId(), ms: t0 + i * 100 };
    if (i % 4 === 0) return acceptedEvent(facts, recipient, { recipients: [recipient], method: "http", sender: `me@${domain}`, attachments: [] }, at);
    if (i % 4 === 1) return deliveredEvent(facts, recipient, { code: 250, message: "OK", attemptNo: 1 }, at);
    return buildTrackingEvent(
      {
        type: "hit",
        v: 1,
        id: at.id,
        event: i % 4 === 2 ? "opened" : "clicked",
        ts: at.ms * 1000,
        domain,
        messageId,
        recipient,
        url: "https://example.org/",
        issuedAt: Math.floor(t0 / 1000) - 3600,
        method: "GET",
        ip: "192.0.2.1",
        userAgent:
          i % 3 === 0 ? "Mozilla/5.0" : "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
        cf: { country: i % 2 ? "NL" : "US" },
      },
      { tags: facts.tags, userVariables: {}, headers: facts.headers, preparedAt: t0 - 3_600_000 },
    );
  });
}

async function timeRollup(domain: string, round: number): Promise<number> {
  await insertEvents(
    benchEnv,
    newEvents(domain, round).map((event) => toEventRow(domain, event)),
  );
  const began = performance.now();
  const result = await rollUpStats(benchEnv, Date.now(), { chunksPerRun: 1000 });
  const ms = performance.now() - began;
  if (result.events !== NEW_EVENTS || result.unfinished) throw new Error(`rolled ${result.events} events`);
  return ms;
}

it("cron rollup of 10,000 new events: none stored before vs 1,000,000 stored", async () => {
  await timeRollup("warm-up.example.com", -1); // JIT and the page cache, not counted
  const empty: number[] = [];
  for (let round = 0; round < ROLLUP_RUNS; round++) empty.push(await timeRollup("fresh.example.com", round));

  const seedStarted = performance.now();
  const body = JSON.stringify({
    event: "delivered",
    "log-level": "info",
    recipient: "x",
    tags: ["old"],
    message: { headers: { to: "x", subject: "Old mail" } },
    flags: {},
  });
  // The history goes into the shard busy.example.com's new events go to (today's, by its domain),
  // with today's timestamps, so the rollup reads new rows of a database holding a million others.
  const dir = await directory(benchEnv);
  const shard = dir.nameFor("busy.example.com", dayOf(Date.now() * 1000));
  const shardDb = dir.database(shard);
  const dayStartMs = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  // The shard's lean layout (migrations-events/0003) with JSON text bodies, as it holds rows copied from
  // the layout before: the 50 history domains and one part they all name (their Message-IDs are in no
  // rollup: the watermark moves past them). Event 3 is delivered (src/domain/lean-event.ts).
  await shardDb
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 49)
       INSERT OR IGNORE INTO event_domains (name) SELECT 'history' || i || '.example.com' FROM n`,
    )
    .run();
  const part = await shardDb
    .prepare(
      `INSERT INTO event_parts (hash, domain_id, message_key, message_id, subject_id, from_id, to_header, body)
       VALUES (NULL, (SELECT id FROM event_domains WHERE name = 'history0.example.com'), ${messageKeySql("'old@bench'")}, 'old@bench', NULL, NULL, 'reader@example.org', NULL)
       RETURNING ref`,
    )
    .first<{ ref: number }>();
  for (let start = 0; start < STORED_EVENTS; start += 250_000) {
    await shardDb
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + 249999)
       INSERT INTO events (domain_id, ts, id, event, severity, recipient, size, part, body)
       SELECT (SELECT id FROM event_domains WHERE name = 'history' || (CAST(i AS INTEGER) % 50) || '.example.com'), ?2 + i * 10, 'old' || i, 3, NULL,
         'reader' || (i % 5000) || '@example.org', 2000, ?4, ?3 FROM n`,
      )
      .bind(start, dayStartMs * 1000, body, part!.ref)
      .run();
  }
  // The seen-set the rollup of that shard looks new opens up in: its stats database's.
  await statsDatabases(benchEnv)
    .of("busy.example.com")
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
     INSERT INTO stats_seen (domain, message_id, recipient, scope, first_seen)
     SELECT 'history' || (i % 50) || '.example.com', 'old-' || i || '@bench', 'reader' || (i % 5000) || '@example.org', 'opened', ?2 FROM n`,
    )
    .bind(STORED_SEEN, Math.floor(Date.now() / 1000) - 20 * DAY_S)
    .run();
  const max = await shardDb.prepare("SELECT max(rowid) AS m, count(*) AS n FROM events").first<{ m: number; n: number }>();
  await setShardWatermark(benchEnv, shard, max!.m);
  report(`seeded ${max!.n} stored events and ${STORED_SEEN} seen-set rows in (s)`, ((performance.now() - seedStarted) / 1000).toFixed(1));

  const full: number[] = [];
  for (let round = 0; round < ROLLUP_RUNS; round++) full.push(await timeRollup("busy.example.com", round + ROLLUP_RUNS));
  const ms = (samples: number[]) => `${median(samples).toFixed(0)} (runs: ${samples.map((s) => s.toFixed(0)).join(", ")})`;
  report(`rollup of ${NEW_EVENTS} new events, ~${4 * NEW_EVENTS} stored before (ms, median)`, ms(empty));
  report(`rollup of ${NEW_EVENTS} new events, ${max!.n} stored before (ms, median)`, ms(full));
  report("ratio 1,000,000 stored / none stored (target <= 1.5x)", `${(median(full) / median(empty)).toFixed(2)}x`);
});
