// Issue 12's figures for the events store, on production-shaped data (bench/support/production-events.ts):
// 1,000 domains with a Zipf spread of volume (the biggest holds BENCH_SCALE_BIGGEST events, a million
// by default, over 30 days), a million recipients, unique Message-IDs, real user agents, ~1 KB of
// user variables, three tags. Written through the events store (db/events-store.ts insertEvents),
// then read through the Events API as mailgun.js would: dense, sparse and no-match filters on the
// biggest domain, first page and a deep page. Also: bytes per event (table and indexes together,
// from D1's size_after), and the write rate early and late in the load.
import { expect, it } from "vitest";
import { insertEvents } from "../src/db/events-store";
import { holdsEvents } from "../src/domain/event-shards";
import { isKeysBinding } from "../src/domain/key-databases";
import { AUTH, benchEnv, call, percentile, report } from "./harness";
import {
  DENSE_TAG,
  domainName,
  domainVolumes,
  type ProductionShape,
  productionEvents,
  RARE_TAG,
  recipientAddress,
  SEED_RECIPIENT,
} from "./support/production-events";
import { measureTextFilters } from "./support/text-filters";

const BIGGEST = Number((benchEnv as unknown as { BENCH_SCALE_BIGGEST?: string }).BENCH_SCALE_BIGGEST ?? 1_000_000);
/** Zipf exponent 2: the other 999 domains hold about 0.64 times the biggest's events between them. */
const SHAPE: ProductionShape = { domains: 1000, biggest: BIGGEST, zipf: 2, recipients: 1_000_000, days: 30, endMs: Date.now(), seed: 20261129 };
const RUNS = 20;
const WARM_UP = 3;

/**
 * The size in bytes of the databases holding what the store writes for events, as D1 reports each
 * after a statement: the control database and the event shards, or the stats databases (the day keys).
 */
async function databaseBytes(which: (name: string) => boolean = holdsEvents): Promise<number> {
  let bytes = 0;
  for (const [name, db] of Object.entries(benchEnv)) {
    if (!which(name)) continue;
    bytes += ((await (db as D1Database).prepare("SELECT 1").run()).meta as { size_after: number }).size_after;
  }
  return bytes;
}

/** Loading 1.6 million events takes minutes on this machine. */
const LOAD_TIMEOUT_MS = 45 * 60_000;

it(`Events API over ${BIGGEST.toLocaleString("en")} events of the biggest of ${SHAPE.domains} domains`, { timeout: LOAD_TIMEOUT_MS }, async () => {
  const big = domainName(1);
  expect((await call("http://127.0.0.1/v4/domains", { method: "POST", headers: AUTH, body: new URLSearchParams({ name: big }) })).status).toBe(200);
  const total = domainVolumes(SHAPE).reduce((a, b) => a + b, 0);
  const before = await databaseBytes();
  const keysBefore = await databaseBytes(isKeysBinding);
  let written = 0;
  const rates: Array<{ at: number; perSecond: number }> = [];
  let windowStart = performance.now();
  let windowRows = 0;
  for (const rows of productionEvents(SHAPE, 2000)) {
    await insertEvents(benchEnv, rows);
    written += rows.length;
    windowRows += rows.length;
    if (windowRows >= 50_000) {
      rates.push({ at: written, perSecond: windowRows / ((performance.now() - windowStart) / 1000) });
      windowStart = performance.now();
      windowRows = 0;
    }
  }
  const after = await databaseBytes();
  const keysAfter = await databaseBytes(isKeysBinding);
  report(
    `events written (all domains; the biggest ${BIGGEST.toLocaleString("en")})`,
    `${written.toLocaleString("en")} of ${total.toLocaleString("en")} planned`,
  );
  report(
    "bytes per event (table + indexes + event_tags + text indexes, D1 size_after summed over every database)",
    `${((after - before) / written).toFixed(0)} B`,
  );
  let keyRows = 0;
  for (const [name, db] of Object.entries(benchEnv)) {
    if (isKeysBinding(name)) keyRows += (await (db as D1Database).prepare("SELECT count(*) AS n FROM event_day_keys").first<{ n: number }>())!.n;
  }
  report(
    "  and the day keys (key databases, D1 size_after): bytes / key rows per event",
    `${((keysAfter - keysBefore) / written).toFixed(1)} B / ${(keyRows / written).toFixed(2)}`,
  );
  if (rates.length >= 2) {
    const first = rates[0]!;
    const last = rates.at(-1)!;
    report(
      "store insert rate, first 50,000 / last 50,000 events (rows/s)",
      `${first.perSecond.toFixed(0)} / ${last.perSecond.toFixed(0)}: ${(first.perSecond / last.perSecond).toFixed(2)}x slower when full`,
    );
  }

  const get = async (query: string) => {
    const response = await call(`http://127.0.0.1/v3/${big}/events?${query}`, { headers: AUTH });
    if (response.status !== 200) throw new Error(`${query}: ${response.status} ${await response.text()}`);
    return response.json<{ items: unknown[]; paging: { next: string } }>();
  };
  const time = async (query: string | (() => string)) => {
    const samples: number[] = [];
    let items = 0;
    for (let run = 0; run < RUNS + WARM_UP; run++) {
      const began = performance.now();
      const page = await get(typeof query === "string" ? query : query());
      if (run >= WARM_UP) samples.push(performance.now() - began);
      items = page.items.length;
    }
    return `${percentile(samples, 50).toFixed(0)} / ${percentile(samples, 95).toFixed(0)} ms (${items} items)`;
  };
  /** The query string of the page `depth` pages in, reached by following next. */
  const deep = async (query: string, depth: number) => {
    let page = await get(query);
    let url = "";
    for (let i = 0; i < depth && page.items.length > 0; i++) {
      url = page.paging.next;
      const response = await call(url, { headers: AUTH });
      page = await response.json();
    }
    return url;
  };
  const timeUrl = async (url: string) => {
    const samples: number[] = [];
    for (let run = 0; run < RUNS + WARM_UP; run++) {
      const began = performance.now();
      const response = await call(url, { headers: AUTH });
      await response.text();
      if (run >= WARM_UP) samples.push(performance.now() - began);
    }
    return `${percentile(samples, 50).toFixed(0)} / ${percentile(samples, 95).toFixed(0)} ms`;
  };
  // Recipients of the biggest domain's messages (rank 1: message m goes to recipientAddress((m * 7919 + 104729) % recipients)).
  const rare = (n: number) => recipientAddress(((1 + n * 50) * 7919 + 104729) % SHAPE.recipients);
  let run = 0;
  const oneEvent = (await get("limit=1")).items[0] as { message: { headers: { "message-id": string } } };
  const messageId = oneEvent.message.headers["message-id"];
  report("Events API p50 / p95, no filter, first page of 100", await time("limit=100"));
  report("  recipient, dense (the seed address, 1 message in 50)", await time(`recipient=${encodeURIComponent(SEED_RECIPIENT)}&limit=100`));
  report("  recipient, sparse (another address each run)", await time(() => `recipient=${encodeURIComponent(rare(run++))}&limit=100`));
  report("  recipient, no match", await time("recipient=nobody%40nowhere.example&limit=100"));
  report(`  tag, dense (${DENSE_TAG}, 2 messages in 3)`, await time(`tags=${DENSE_TAG}&limit=100`));
  report(`  tag, sparse (${RARE_TAG}, 1 message in 1,000)`, await time(`tags=${RARE_TAG}&limit=100`));
  report("  tag, no match", await time("tags=never-used&limit=100"));
  // The same-run baseline: an OR of tags is not driven by event_tags, so it walks the domain's time
  // index and probes each event's tags, as every tag filter did before.
  report(
    "  tag, no match, `a OR b` (not driven by event_tags; the day keys rule every day out)",
    await time(`tags=${encodeURIComponent("never-used OR also-never")}&limit=100`),
  );
  report("  event, dense (opened)", await time("event=opened&limit=100"));
  report("  event, sparse (complained, 1 message in 1,000)", await time("event=complained&limit=100"));
  report("  message-id (one message's events)", await time(`message-id=${encodeURIComponent(messageId)}&limit=100`));
  report("  message-id, no match", await time(`message-id=${encodeURIComponent(`nothing@${big}`)}&limit=100`));
  report("  subject contains, dense (every subject)", await time("subject=Autumn&limit=100"));
  report("  subject contains, no match (the walk narrowed by the trigram index)", await time("subject=zzzz-no-such-subject&limit=100"));
  report("Events API p50 / p95, page 50 of no filter", await timeUrl(await deep("limit=100", 50)));
  report(`Events API p50 / p95, page 50 of tag ${DENSE_TAG}`, await timeUrl(await deep(`tags=${DENSE_TAG}&limit=100`, 50)));
  report("Events API p50 / p95, page 20 of the dense recipient", await timeUrl(await deep(`recipient=${encodeURIComponent(SEED_RECIPIENT)}&limit=100`, 20)));
  // The first figure above is the first read after loading 1.6 million rows: the same query again, last.
  report("Events API p50 / p95, no filter, first page of 100, again after the others", await time("limit=100"));
  await measureLogsApi(rare);
  // Last: its insert measurement leaves rows out of the text indexes.
  await measureTextFilters(big, SHAPE);
});

/**
 * The Logs API (POST /v1/analytics/logs) over every domain of the account (1,000: each created
 * first), the last 30 days, first page of 100: keyed filters with the day keys, and again with
 * the keys switched off (their first day moved past every day) in the same run: the baseline.
 */
async function measureLogsApi(rare: (n: number) => string): Promise<void> {
  for (let rank = 2; rank <= SHAPE.domains; rank++) {
    const created = await call("http://127.0.0.1/v4/domains", { method: "POST", headers: AUTH, body: new URLSearchParams({ name: domainName(rank) }) });
    expect(created.status).toBe(200);
  }
  const start = new Date(Date.now() - 30 * 86_400_000).toUTCString();
  const logs = async (filter: Array<{ attribute: string; value: string }>, events?: string[]) => {
    const body = {
      start,
      ...(events ? { events } : {}),
      filter: { AND: filter.map(({ attribute, value }) => ({ attribute, comparator: "=", values: [{ label: value, value }] })) },
      pagination: { limit: 100 },
    };
    const response = await call("http://127.0.0.1/v1/analytics/logs", {
      method: "POST",
      headers: { ...AUTH, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) throw new Error(`logs: ${response.status} ${await response.text()}`);
    return response.json<{ items: unknown[] }>();
  };
  let run = 0;
  const time = async (make: () => Parameters<typeof logs>) => {
    const samples: number[] = [];
    let items = 0;
    for (let i = 0; i < RUNS + WARM_UP; i++) {
      const began = performance.now();
      const page = await logs(...make());
      if (i >= WARM_UP) samples.push(performance.now() - began);
      items = page.items.length;
    }
    return { p50: percentile(samples, 50), text: `${percentile(samples, 50).toFixed(0)} / ${percentile(samples, 95).toFixed(0)} ms (${items} items)` };
  };
  const cases: Array<[string, () => Parameters<typeof logs>]> = [
    ["recipient, sparse (another address each run)", () => [[{ attribute: "recipient", value: rare(1000 + run++) }]]],
    ["recipient, no match", () => [[{ attribute: "recipient", value: "nobody@nowhere.example" }]]],
    ["events complained", () => [[], ["complained"]]],
  ];
  const withKeys = [];
  report("Logs API over 1,000 domains, p50 / p95, no filter", (await time(() => [[]])).text);
  for (const [, make] of cases) withKeys.push(await time(make));
  // The same queries with the day keys switched off: every domain's every day is read.
  const since = "SELECT value FROM account_settings WHERE name = 'event_day_keys_since'";
  const was = (await benchEnv.DB.prepare(since).first<{ value: string }>())!.value;
  const off = String(Math.floor(Date.now() / 86_400_000) + 100);
  await benchEnv.DB.prepare("UPDATE account_settings SET value = ?1 WHERE name = 'event_day_keys_since'").bind(off).run();
  // The same addresses again.
  run = 0;
  try {
    for (const [i, [name, make]] of cases.entries()) {
      const without = await time(make);
      report(`  ${name}: with the day keys | without (same run)`, `${withKeys[i]!.text} | ${without.text}: ${(without.p50 / withKeys[i]!.p50).toFixed(1)}x`);
    }
  } finally {
    await benchEnv.DB.prepare("UPDATE account_settings SET value = ?1 WHERE name = 'event_day_keys_since'").bind(was).run();
  }
}
