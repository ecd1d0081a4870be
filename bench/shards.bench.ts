// Issue 12, "Measured, not assumed": the events pipeline per shard, on production-shaped queue
// traffic (bench/support/shard-traffic.ts: 1,000 domains with a Zipf spread, a million recipients,
// unique Message-IDs, real user agents, ~1 KB of user variables, three tags, 5% bounces, 5% of
// opens unsubscribing, webhooks on a third of the domains). Each figure is a ratio against a
// baseline measured in the same run:
//  1. one shard's consumer throughput (queue batches of 100 through worker.queue, every event on
//     one day and of domains the directory maps to one shard) against a raw insert of the same rows
//     into the same shard (described at rawInsert), on an empty shard and on a shard of the same
//     domains holding a million events (BENCH_SHARD_FULL), all four measured in one interleaved loop;
//  2. aggregate write throughput over 1, 2, 4 and 8 shards (the same events, N consumers at once,
//     each on its own shard's domains), as a ratio to one shard;
//  3. the stats rollup's drain rate (rollUpStats over the shards of the recent days holding fresh
//     events) against the consumer's write rate of (1).
// Durable Objects: the test pool wraps the DomainState class's prototype in one more proxy for
// every instance it makes (vitest-pool-workers' createProxyPrototypeClass), so each call to the
// n-th instance walks n proxies: measured here, a call to an instance made after 300 others took
// ~10 ms against ~2 ms for an early one, and ~1,000 instances overflow the stack. Deployed, every
// domain has its own object and a call costs the same whatever their number. So the bench's
// DOMAIN_STATE maps each domain to one of DOMAIN_STATE_OBJECTS real objects (by hash): every
// suppression is a real RPC and a real write in a warm object's storage, as deployed, without the
// pool's cost growing through the run.
// The webhooks queue is a counting stub: the consumer does its whole fan-out (the webhooks lookup,
// the packs, the send call), but the deliveries are not run, which in production happens in other
// invocations (on this 2-core machine they would run beside the consumer and blur its figure).
import { createMessageBatch } from "cloudflare:test";
import { expect, it } from "vitest";
import { ROLLUP_CHUNK_EVENTS, rollUpStats } from "../src/cron/rollups";
import { keyDatabases, writeDayKeys } from "../src/db/event-day-keys";
import { insertEvents } from "../src/db/events-store";
import { jsonChunks } from "../src/db/json-chunks";
import { type EncodedRow, encodeLeanRows, LEAN_EVENT_COLUMNS, type LeanRow, leanBodies } from "../src/db/lean-events";
import { setShardWatermark } from "../src/db/rollups";
import { directory } from "../src/db/shards";
import { setManyWebhookUrls, type WebhookUrls } from "../src/db/webhooks";
import { keysOfEvents } from "../src/domain/event-day-keys";
import { CONTROL_DATABASE, dayOf, domainHash, holdsEvents } from "../src/domain/event-shards";
import { eventCode, messageKey, messageKeySql, storedPart } from "../src/domain/lean-event";
import type { EventRow } from "../src/domain/tracking-event";
import { WEBHOOK_IDS } from "../src/domain/webhooks";
import type { Env } from "../src/env";
import { partitionsAs } from "../test/support/partitions";
import worker from "./bench-worker";
import { AUTH, benchEnv, call, median, plainContext, report } from "./harness";
import { dayTraffic, type Traffic, type TrafficItem } from "./support/shard-traffic";

/** Production-shaped events written into the full shard before it is filled up with copies of them. */
const SEED_EVENTS = 20_000;
/** Events preloaded into the shard for the "full" figure; `BENCH_SHARD_FULL=200000 npm run bench` for a quicker run. */
const FULL = Number((benchEnv as unknown as { BENCH_SHARD_FULL?: string }).BENCH_SHARD_FULL ?? 1_000_000);
const BATCH = 100;
/**
 * Timed batches per side and phase of (1), after WARM_UP batches that are not counted. The full
 * shard has just taken a million rows in a few large statements; with 10 warm-up batches the
 * counted batches' thirds were 52%, 16% and 6% slower there than on the empty shard (consumer;
 * raw insert 36%, 21%, 10%): the first batches after the fill pay for settling it, which a shard
 * written all day long does not. 60 let that pass before anything is counted.
 */
const BATCHES = 200;
const WARM_UP = 60;
/** Events written in each run of (2), whatever the number of shards. */
const SPREAD_EVENTS = 16_000;
const SPREAD_ROUNDS = 3;
/** Fresh events the rollup drains in (3), per round, and the rounds. */
const DRAIN_EVENTS = 20_000;
const DRAIN_ROUNDS = 3;
/** The rollup's chunk size also measured, beside ROLLUP_CHUNK_EVENTS (the chunk before it). Unit: events. */
const OTHER_CHUNK_EVENTS = 1000;
const DOMAINS = 1000;
/** Zipf's law proper (production-events.ts uses 2 for the biggest domain's million): batches mix many domains. */
const ZIPF = 1;
const RECIPIENTS = 1_000_000;
const WEBHOOK_URL = "https://hooks.customer.example/mailgun";

/** The webhooks queue as a counter (see the header). */
let webhookMessages = 0;
const DOMAIN_STATE_OBJECTS = 32;
const states = benchEnv.DOMAIN_STATE;
const env: Env = {
  ...benchEnv,
  DOMAIN_STATE: {
    idFromName: (name: string) => states.idFromName(`bench-shards-state-${domainHash(name) % DOMAIN_STATE_OBJECTS}`),
    get: (id: DurableObjectId) => states.get(id),
  } as unknown as Env["DOMAIN_STATE"],
  ...partitionsAs(benchEnv, "webhooks", {
    send: async () => void webhookMessages++,
    sendBatch: async (messages: Iterable<unknown>) => void (webhookMessages += [...messages].length),
  }),
};

/**
 * This bench's domains: named apart from bench/events-scale.bench.ts's (mg.customer<rank>...), which
 * runs next and reads its biggest domain's events from the same shards.
 */
const domainName = (rank: number) => `mg.store${rank}.example.net`;

/** The domains of the first DOMAINS ranks that the directory puts in database `name` on `day`. */
async function domainsOf(name: string, day: number): Promise<Array<{ name: string; rank: number }>> {
  const dir = await directory(env);
  const out: Array<{ name: string; rank: number }> = [];
  for (let rank = 1; rank <= DOMAINS; rank++) if (dir.nameFor(domainName(rank), day) === name) out.push({ name: domainName(rank), rank });
  return out;
}

/**
 * The Durable Objects made and loaded before anything is timed: deployed, each domain's object
 * exists and is warm by the time its events arrive (the send path calls checkRecipients on every
 * message). Making one locally costs 20-60 ms.
 */
async function warmDomainStates(): Promise<void> {
  await Promise.all(
    Array.from({ length: DOMAIN_STATE_OBJECTS }, async (_, i) => {
      const state = states.get(states.idFromName(`bench-shards-state-${i}`));
      await state.checkRecipients([`someone@customer${i}.example.com`], []);
    }),
  );
}

const webhooksSet = new Set<string>();
/** Every webhook of a third of the domains (every third by rank, the biggest among them) to one URL. */
async function configureWebhooks(domains: Array<{ name: string; rank: number }>): Promise<void> {
  for (const { name, rank } of domains) {
    if (rank % 3 !== 1 || webhooksSet.has(name)) continue;
    webhooksSet.add(name);
    const created = await call("http://127.0.0.1/v4/domains", { method: "POST", headers: AUTH, body: new URLSearchParams({ name }) });
    if (created.status !== 200) throw new Error(`domain ${name}: ${created.status}`);
    await setManyWebhookUrls(env.DB, name, new Map(WEBHOOK_IDS.map((id) => [id, [WEBHOOK_URL]])) as WebhookUrls);
  }
}

/**
 * What the send path saved for each message (message_facts), in bulk: setup, not measured. Each in
 * the shard of its domain and send day, where the consumer looks a hit's message up.
 */
async function saveMetadata(traffic: Traffic): Promise<void> {
  const dir = await directory(env);
  const byShard = new Map<string, unknown[][]>();
  for (const { key, metadata } of traffic.metadata) {
    const name = dir.nameFor(key.domain, dayOf(metadata.preparedAt * 1000));
    const rows = byShard.get(name) ?? [];
    rows.push([
      key.domain,
      key.messageId,
      JSON.stringify(metadata.tags),
      JSON.stringify(metadata.userVariables),
      JSON.stringify({ ...metadata.headers, "message-id": key.messageId }),
      metadata.preparedAt,
    ]);
    byShard.set(name, rows);
  }
  for (const [name, rows] of byShard) {
    for (const json of jsonChunks(rows)) {
      await dir
        .database(name)
        .prepare(
          `INSERT OR REPLACE INTO message_facts (domain, message_id, tags, user_variables, headers, prepared_at)
       SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?1)`,
        )
        .bind(json)
        .run();
    }
  }
}

async function materialize(traffic: Traffic, from: number, count: number): Promise<TrafficItem[]> {
  return Promise.all(traffic.items.slice(from, from + count).map((make) => make()));
}

/** One queue batch through the Worker's queue handler; every message must be acked. Returns ms. */
async function consume(items: Array<Pick<TrafficItem, "id" | "body">>): Promise<number> {
  const batch = createMessageBatch(
    "tidings-events",
    items.map((item) => ({ id: item.id, timestamp: new Date(), attempts: 1, body: item.body })),
  );
  let acks = 0;
  for (const message of batch.messages) {
    const ack = message.ack.bind(message);
    Object.defineProperty(message, "ack", { value: () => (acks++, ack()) });
  }
  const { ctx, drain } = plainContext();
  const began = performance.now();
  await worker.queue(batch, env, ctx);
  await drain();
  const ms = performance.now() - began;
  if (acks !== items.length) throw new Error(`${acks} acks of ${items.length}`);
  return ms;
}

const DOMAIN_ID = "(SELECT id FROM event_domains WHERE name = ?1)";
const INSERT_DOMAIN = "INSERT OR IGNORE INTO event_domains (name) VALUES (?1)";
const INSERT_TEXT = "INSERT OR IGNORE INTO event_texts (text) VALUES (?1)";
const INSERT_PART = `INSERT OR IGNORE INTO event_parts (hash, domain_id, message_key, message_id, subject_id, from_id, to_header, body)
  VALUES (unhex(?2), ${DOMAIN_ID}, ?8, ?3, (SELECT id FROM event_texts WHERE text = ?4), (SELECT id FROM event_texts WHERE text = ?5), ?6, ?7)`;
const INSERT_EVENT = `INSERT OR IGNORE INTO events (domain_id, ts, id, event, severity, recipient, size, part, body)
  VALUES (${DOMAIN_ID}, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT ref FROM event_parts WHERE hash = unhex(?8)), ?9)`;
const INSERT_TAG_NAME = `INSERT OR IGNORE INTO event_tag_names (domain_id, name) VALUES (${DOMAIN_ID}, ?2)`;
const INSERT_TAG = `INSERT OR IGNORE INTO event_tags (tag, ts, seq)
  VALUES ((SELECT id FROM event_tag_names WHERE domain_id = ${DOMAIN_ID} AND name = ?2), ?3,
    (SELECT seq FROM events WHERE domain_id = ${DOMAIN_ID} AND ts = ?3 AND id = ?4))`;

/**
 * The baseline: what a plain implementation does with rows it already has. Given the consumer's
 * rows (same columns, same body, another id of the same length) already encoded as the shard
 * stores them (the compressed rest, the part and its hash: outside the timing), it writes them into
 * the same shard with one prepared INSERT per domain, text, part, event, tag name and tag, all of a queue batch in
 * one db.batch (one round trip, one transaction). No parsing, no metadata, no Durable Object, no
 * fan-out. Returns ms.
 */
async function rawInsert(db: D1Database, encoded: EncodedRow[], parts: Uint8Array[]): Promise<number> {
  const began = performance.now();
  const domain = db.prepare(INSERT_DOMAIN);
  const text = db.prepare(INSERT_TEXT);
  const part = db.prepare(INSERT_PART);
  const event = db.prepare(INSERT_EVENT);
  const tagName = db.prepare(INSERT_TAG_NAME);
  const tag = db.prepare(INSERT_TAG);
  const statements: D1PreparedStatement[] = [];
  for (const name of new Set(encoded.map(({ row }) => row.domain))) statements.push(domain.bind(name));
  for (const [i, { row: r, lean, hash }] of encoded.entries()) {
    const c = lean.columns;
    for (const value of [c.subject, c.from]) if (value !== null) statements.push(text.bind(value));
    statements.push(part.bind(r.domain, hash, c.messageId, c.subject, c.from, c.to, parts[i]!, c.messageId === null ? null : messageKey(c.messageId)));
    statements.push(event.bind(r.domain, r.ts, r.id, eventCode(r.event), r.severity, r.recipient, r.size, hash, lean.rest));
    for (const t of r.tags) statements.push(tagName.bind(r.domain, t), tag.bind(r.domain, t, r.ts, r.id));
  }
  await db.batch(statements);
  return performance.now() - began;
}

interface PairFigures {
  consumerMs: number;
  rawMs: number;
  /** The same rows through the store's own insert (insertEvents: one json_each INSERT a table). */
  storeMs: number;
  events: number;
  batchRatios: number[];
  /** Each counted batch's times, in order. */
  consumerBatchMs: number[];
  rawBatchMs: number[];
  /** Counted events of domains with webhooks. */
  hooked: number;
  consumerIds: string[];
  rawIds: string[];
}

function emptyFigures(): PairFigures {
  return { consumerMs: 0, rawMs: 0, storeMs: 0, events: 0, batchRatios: [], consumerBatchMs: [], rawBatchMs: [], hooked: 0, consumerIds: [], rawIds: [] };
}

/** One shard's side of the measurement: its traffic and database, and what was measured there. */
interface Side {
  traffic: Traffic;
  db: D1Database;
  figures: PairFigures;
}

/**
 * WARM_UP + BATCHES batches of each side's traffic, each through the consumer and through the raw
 * insert, all interleaved (batch b of every side both ways, the order rotating from batch to
 * batch), so that noise on the shared machine hits every figure alike. The warm-up batches are
 * written but not counted.
 */
async function consumerVsRaw(sides: Side[]): Promise<void> {
  for (let b = 0; b < WARM_UP + BATCHES; b++) {
    const steps: Array<() => Promise<void>> = [];
    const times = sides.map(() => ({ consumerMs: 0, rawMs: 0, storeMs: 0 }));
    for (const [i, side] of sides.entries()) {
      const items = await materialize(side.traffic, b * BATCH, BATCH);
      const rows = items.map((item) => item.raw);
      const encoded = await encodeLeanRows(rows);
      const parts = encoded.map(({ lean }) => storedPart(lean.partJson));
      if (b >= WARM_UP) {
        const f = side.figures;
        f.events += items.length;
        f.hooked += rows.filter((row) => webhooksSet.has(row.domain)).length;
        f.consumerIds.push(...items.map((item) => item.eventId));
        f.rawIds.push(...rows.map((row) => row.id));
      }
      steps.push(async () => void (times[i]!.consumerMs = await consume(items)));
      steps.push(async () => void (times[i]!.rawMs = await rawInsert(side.db, encoded, parts)));
      // A third copy of the rows (another id again) through the store's insert, the consumer's own write.
      const storeRows = rows.map((row) => ({ ...row, id: `~${row.id.slice(1)}` }));
      steps.push(async () => {
        const began = performance.now();
        await insertEvents(benchEnv, storeRows);
        times[i]!.storeMs = performance.now() - began;
      });
    }
    const turn = b % steps.length;
    for (const step of [...steps.slice(turn), ...steps.slice(0, turn)]) await step();
    if (b < WARM_UP) continue;
    for (const [i, { figures }] of sides.entries()) {
      figures.consumerMs += times[i]!.consumerMs;
      figures.rawMs += times[i]!.rawMs;
      figures.storeMs += times[i]!.storeMs;
      figures.batchRatios.push(times[i]!.consumerMs / times[i]!.rawMs);
      figures.consumerBatchMs.push(times[i]!.consumerMs);
      figures.rawBatchMs.push(times[i]!.rawMs);
    }
  }
}

const perSecond = (events: number, ms: number) => (events / ms) * 1000;
const fmtRate = (events: number, ms: number) => `${perSecond(events, ms).toFixed(0)} events/s`;

/** Rows a shard holds. */
async function countEvents(db: D1Database): Promise<number> {
  return (await db.prepare("SELECT count(*) AS n FROM events").first<{ n: number }>())!.n;
}

/**
 * Fills a shard up to `target` events by copying the production-shaped rows it already holds, each copy with its own ids, Message-IDs and recipients (so every
 * index grows as with new mail) and the same bodies, tags and times. SQL-side, a copy per
 * statement: loading a million events through the consumer would take most of an hour here.
 */
async function fillShard(db: D1Database, target: number): Promise<void> {
  const seed = await db.prepare("SELECT max(seq) AS m, count(*) AS n FROM events").first<{ m: number; n: number }>();
  const seedRows = "SELECT seq FROM events WHERE seq <= ?2 ORDER BY seq LIMIT ?3";
  for (let copy = 1; ; copy++) {
    const have = await countEvents(db);
    if (have >= target) break;
    const want = Math.min(seed!.n, target - have);
    // Each copied message gets a part of its own (hash and Message-ID marked with the copy), as new mail would.
    await db.batch([
      db
        .prepare(
          `INSERT INTO event_parts (hash, domain_id, message_key, message_id, subject_id, from_id, to_header, body)
           SELECT hash || '.' || ?1, domain_id, ${messageKeySql("('c' || ?1 || '.' || message_id)")}, 'c' || ?1 || '.' || message_id, subject_id, from_id, to_header, body FROM event_parts
           WHERE ref IN (SELECT part FROM events WHERE seq IN (${seedRows}))`,
        )
        .bind(copy, seed!.m, want),
      db
        .prepare(
          `INSERT INTO events (domain_id, ts, id, event, severity, recipient, size, part, body)
           SELECT e.domain_id, e.ts, e.id || '.' || ?1, e.event, e.severity, 'c' || ?1 || '.' || e.recipient, e.size,
             (SELECT c.ref FROM event_parts AS c WHERE c.hash = p.hash || '.' || ?1), e.body
           FROM events AS e JOIN event_parts AS p ON p.ref = e.part WHERE e.seq IN (${seedRows})`,
        )
        .bind(copy, seed!.m, want),
      db
        .prepare(
          `INSERT INTO event_tags (tag, ts, seq)
           SELECT t.tag, t.ts, c.seq FROM event_tags AS t JOIN events AS o ON o.seq = t.seq
             JOIN events AS c ON c.domain_id = o.domain_id AND c.ts = o.ts AND c.id = o.id || '.' || ?1
           WHERE t.seq IN (${seedRows})`,
        )
        .bind(copy, seed!.m, want),
    ]);
  }
}

/**
 * The full day's keys in its key database (docs/storage.md, "`event_day_keys`"), as they would be
 * had every event of the shard come through the store: the seed's own, written by the store's
 * code, and for the copies (each with a recipient and Message-ID of its own, the same events and
 * tags) as many more recipient and Message-ID keys per event, random. Returns the day's keys.
 */
async function fillDayKeys(seedRows: EventRow[], held: number): Promise<number> {
  await writeDayKeys(benchEnv, seedRows);
  const present = keysOfEvents(seedRows).filter((k) => k.n === 0).length;
  const db = keyDatabases(benchEnv).of(seedRows[0]!.domain);
  const day = dayOf(seedRows[0]!.ts);
  const chunk = 100_000;
  for (let left = Math.round(((held - seedRows.length) * present) / seedRows.length); left > 0; left -= chunk) {
    await db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
         INSERT OR IGNORE INTO event_day_keys (day, key, n) SELECT ?1, random() & 9007199254740991, 0 FROM n`,
      )
      .bind(day, Math.min(chunk, left))
      .run();
  }
  return (await db.prepare("SELECT count(*) AS n FROM event_day_keys WHERE day = ?1").bind(day).first<{ n: number }>())!.n;
}

const today = dayOf(Date.now() * 1000);
let oneShardRate = 0;

it(`one shard: consumer vs raw insert, empty and holding ${FULL.toLocaleString("en")} events`, { timeout: 60 * 60_000 }, async () => {
  // Two databases of the same domains (the biggest's hash group): yesterday's, empty, and that of
  // ten days ago, filled first. Both are measured in the same loop, so the full-vs-empty ratio is
  // not a comparison of two moments of a shared machine.
  const dir = await directory(env);
  const [emptyDay, fullDay] = [today - 1, today - 10];
  const emptyDb = dir.database(dir.nameFor(domainName(1), emptyDay));
  const fullDb = dir.database(dir.nameFor(domainName(1), fullDay));
  expect(await countEvents(emptyDb)).toBe(0);
  expect(await countEvents(fullDb)).toBe(0);
  const domains = await domainsOf(dir.nameFor(domainName(1), emptyDay), emptyDay);
  await configureWebhooks(domains);
  await warmDomainStates();
  const perPhase = (WARM_UP + BATCHES) * BATCH;
  const shape = { domains, zipf: ZIPF, recipients: RECIPIENTS };

  const filling = performance.now();
  const history = dayTraffic({ ...shape, day: fullDay, events: SEED_EVENTS, firstMessage: 500_000, seed: 11 });
  const seedRows: EventRow[] = [];
  for (let b = 0; b < SEED_EVENTS; b += BATCH) {
    const rows = (await materialize(history, b, BATCH)).map((item) => item.raw);
    seedRows.push(...rows);
    const encoded = await encodeLeanRows(rows);
    await rawInsert(
      fullDb,
      encoded,
      encoded.map(({ lean }) => storedPart(lean.partJson)),
    );
  }
  await fillShard(fullDb, FULL);
  const held = await countEvents(fullDb);
  const dayKeys = await fillDayKeys(seedRows, held);
  report(
    `shard filled to ${held.toLocaleString("en")} events (${SEED_EVENTS.toLocaleString("en")} written, then copied), its day's keys to ${dayKeys.toLocaleString("en")}, in`,
    `${((performance.now() - filling) / 1000).toFixed(0)} s`,
  );

  const empty: Side = {
    traffic: dayTraffic({ ...shape, day: emptyDay, events: perPhase, firstMessage: 1_000_000, seed: 12 }),
    db: emptyDb,
    figures: emptyFigures(),
  };
  const full: Side = {
    traffic: dayTraffic({ ...shape, day: fullDay, events: perPhase, firstMessage: 2_000_000, seed: 13 }),
    db: fullDb,
    figures: emptyFigures(),
  };
  await saveMetadata(empty.traffic);
  await saveMetadata(full.traffic);
  const hooksBefore = webhookMessages;
  await consumerVsRaw([empty, full]);

  // Each batch three ways: the consumer, the raw insert, the store's insert (each its own ids).
  expect(await countEvents(emptyDb)).toBe(3 * perPhase);
  // The consumer stored the very rows the baseline did: as many, bodies of the same total length once
  // read back (they differ only in the id, of the same length, and the order of keys, which changes
  // how well the stored rest compresses, not what it holds).
  for (const { db, figures } of [empty, full]) {
    const sizes = async (ids: string[]) => {
      const rows = (
        await db
          .prepare(`SELECT ${LEAN_EVENT_COLUMNS} FROM events AS e JOIN event_parts AS p ON p.ref = e.part WHERE e.id IN (SELECT value FROM json_each(?1))`)
          .bind(JSON.stringify(ids))
          .all<LeanRow>()
      ).results;
      return { n: rows.length, bytes: leanBodies(rows, true).reduce((sum, body) => sum + body.length, 0) };
    };
    const consumerSide = await sizes(figures.consumerIds);
    expect(consumerSide.n).toBe(BATCHES * BATCH);
    expect(consumerSide).toEqual(await sizes(figures.rawIds));
  }
  report(
    `${domains.length} of ${DOMAINS} domains, batches of ${BATCH}, per shard`,
    `${(BATCHES * BATCH).toLocaleString("en")} events each way, after ${WARM_UP} batches`,
  );
  report(
    "  events of hooked domains; webhook queue messages the consumer sent",
    `${((empty.figures.hooked / empty.figures.events) * 100).toFixed(0)}%; ${webhookMessages - hooksBefore}`,
  );
  const show = (label: string, f: PairFigures) => {
    report(`  ${label}: consumer`, fmtRate(f.events, f.consumerMs));
    report(`  ${label}: raw insert (prepared INSERTs, one db.batch per 100)`, fmtRate(f.events, f.rawMs));
    report(
      `  ${label}: consumer / raw insert (total time; median of batches)`,
      `${(f.consumerMs / f.rawMs).toFixed(2)}x; ${median(f.batchRatios).toFixed(2)}x (target <= 1.2x)`,
    );
    report(`  ${label}: the store's own insert of the same rows (insertEvents)`, fmtRate(f.events, f.storeMs));
    report(`  ${label}: consumer / the store's insert (what the consumer adds to its write)`, `${(f.consumerMs / f.storeMs).toFixed(2)}x`);
  };
  show("empty shard", empty.figures);
  show(`shard of ${held.toLocaleString("en")}`, full.figures);
  oneShardRate = perSecond(empty.figures.events, empty.figures.consumerMs);
  const slower = (a: PairFigures, b: PairFigures, key: "consumerMs" | "rawMs") => `${((a[key] / a.events / (b[key] / b.events) - 1) * 100).toFixed(0)}%`;
  report(
    "  full vs empty: consumer slower by / raw insert slower by (target <= 20%)",
    `${slower(full.figures, empty.figures, "consumerMs")} / ${slower(full.figures, empty.figures, "rawMs")}`,
  );
  // The same over each third of the batches (total times again, so a costly batch counts in its third):
  // how much of the figure above is one stretch of a shared machine.
  const thirds = (key: "consumerBatchMs" | "rawBatchMs") => {
    const n = Math.floor(full.figures[key].length / 3);
    const sum = (values: number[], t: number) => values.slice(t * n, (t + 1) * n).reduce((a, b) => a + b, 0);
    const ratios = [0, 1, 2].map((t) => (sum(full.figures[key], t) / sum(empty.figures[key], t) - 1) * 100);
    return `${median(ratios).toFixed(0)}% (${ratios.map((r) => `${r.toFixed(0)}%`).join(", ")})`;
  };
  report("  full vs empty by thirds of the batches, median (thirds): consumer / raw insert", `${thirds("consumerBatchMs")} / ${thirds("rawBatchMs")}`);
});

it("aggregate write throughput over 1, 2, 4 and 8 shards", { timeout: 30 * 60_000 }, async () => {
  const dir = await directory(env);
  // 15 databases not used before, as a day's writes spread: 1 shard of day today-2, then both of
  // today-3, both of today-4 and -5, both of today-6 ... -9 (each shard has its own domains).
  const free = [{ name: dir.nameFor(domainName(1), today - 2), day: today - 2 }];
  for (let back = 3; back <= 9; back++) for (const name of dir.namesOfDay(today - back)) free.push({ name, day: today - back });
  const layouts = [1, 2, 4, 8].map((n) => ({ n, shards: free.splice(0, n), rates: [] as number[] }));
  let firstMessage = 3_000_000;
  // Rounds of 1, 2, 4, 8 in turn, the median of each: noise on the shared machine spreads over all.
  for (let round = 0; round < SPREAD_ROUNDS; round++) {
    for (const layout of layouts) {
      const per = SPREAD_EVENTS / layout.n;
      const work = [];
      for (const [i, { name, day }] of layout.shards.entries()) {
        const domains = await domainsOf(name, day);
        await configureWebhooks(domains);
        const traffic = dayTraffic({
          domains,
          zipf: ZIPF,
          day,
          events: per + WARM_UP * BATCH,
          recipients: RECIPIENTS,
          firstMessage,
          seed: 100 + round * 100 + layout.n * 10 + i,
        });
        firstMessage += per * 2 + WARM_UP * BATCH;
        await saveMetadata(traffic);
        const items = (await materialize(traffic, 0, per + WARM_UP * BATCH)).map(({ id, body }) => ({ id, body }));
        // A few batches first, not timed: each shard's first statements.
        for (let b = 0; b < WARM_UP; b++) await consume(items.slice(b * BATCH, (b + 1) * BATCH));
        work.push({ db: dir.database(name), items: items.slice(WARM_UP * BATCH) });
      }
      const began = performance.now();
      await Promise.all(
        work.map(async ({ items }) => {
          for (let b = 0; b < items.length; b += BATCH) await consume(items.slice(b, b + BATCH));
        }),
      );
      layout.rates.push(perSecond(SPREAD_EVENTS, performance.now() - began));
      for (const { db } of work) expect(await countEvents(db)).toBe((round + 1) * (per + WARM_UP * BATCH));
    }
  }
  const one = median(layouts[0]!.rates);
  for (const { n, rates } of layouts) {
    report(
      `${SPREAD_EVENTS.toLocaleString("en")} events over ${n} shard${n > 1 ? "s" : ""}, ${n} consumer${n > 1 ? "s" : ""} at once (median of ${SPREAD_ROUNDS})`,
      `${median(rates).toFixed(0)} events/s (${(median(rates) / one).toFixed(2)}x one shard; rounds ${rates.map((r) => r.toFixed(0)).join(", ")})`,
    );
  }
  report("  (locally every D1 database and Durable Object is served by one workerd process on this 2-core machine)", "");
});

it("rollup drain rate against one shard's write rate", { timeout: 30 * 60_000 }, async () => {
  const dir = await directory(env);
  // Everything written so far counts as rolled up: the rollup starts from the fresh events below.
  for (const name of Object.keys(env).filter(holdsEvents)) {
    const db = name === CONTROL_DATABASE ? env.DB : dir.database(name);
    const max = await db.prepare("SELECT coalesce(max(rowid), 0) AS m FROM events").first<{ m: number }>();
    await setShardWatermark(env, name, max!.m);
  }
  const domains = Array.from({ length: DOMAINS }, (_, i) => ({ name: domainName(i + 1), rank: i + 1 }));
  await configureWebhooks(domains);
  /** Fresh events of all the domains on the four most recent days (8 shards), written by the consumer: events and ms. */
  const writeFresh = async (round: number) => {
    let written = 0;
    let writeMs = 0;
    for (let back = 0; back < 4; back++) {
      const traffic = dayTraffic({
        domains,
        zipf: ZIPF,
        day: today - back,
        events: DRAIN_EVENTS / 4,
        recipients: RECIPIENTS,
        firstMessage: 6_000_000 + (round * 4 + back) * DRAIN_EVENTS,
        seed: 500 + round * 4 + back,
      });
      await saveMetadata(traffic);
      for (let b = 0; b < traffic.items.length; b += BATCH) {
        writeMs += await consume((await materialize(traffic, b, BATCH)).map(({ id, body }) => ({ id, body })));
        written += Math.min(BATCH, traffic.items.length - b);
      }
    }
    return { written, writeMs };
  };
  /** Runs of rollUpStats until nothing is left: events rolled up, runs and ms. */
  const drainAll = async (chunkEvents: number) => {
    let rolled = 0;
    let runs = 0;
    const began = performance.now();
    for (;;) {
      runs++;
      // queueRest: false: this loop drains everything itself, so no queued job rolls up beside it.
      const result = await rollUpStats(env, Date.now(), { chunksPerRun: 1000, chunkEvents, queueRest: false });
      rolled += result.events;
      if (!result.unfinished) break;
    }
    return { rolled, runs, ms: performance.now() - began };
  };

  // Rounds of (write, then drain what was written), the ratio taken per round and its median: the
  // machine is shared, and a write rate measured minutes apart from its drain would flatter or not.
  const ratios: number[] = [];
  const drains: number[] = [];
  const writes: number[] = [];
  let rolledAll = 0;
  let runsAll = 0;
  for (let round = 0; round < DRAIN_ROUNDS; round++) {
    const { written, writeMs } = await writeFresh(round);
    const { rolled, runs, ms } = await drainAll(ROLLUP_CHUNK_EVENTS);
    expect(rolled).toBe(written);
    rolledAll += rolled;
    runsAll += runs;
    drains.push(perSecond(rolled, ms));
    writes.push(perSecond(written, writeMs));
    ratios.push(perSecond(rolled, ms) / perSecond(written, writeMs));
  }
  const drain = median(drains);
  report(
    `rollup of ${rolledAll.toLocaleString("en")} fresh events over 8 shards in ${DRAIN_ROUNDS} rounds (${runsAll} runs, chunks of ${ROLLUP_CHUNK_EVENTS}), median`,
    `${drain.toFixed(0)} events/s (rounds ${drains.map((r) => r.toFixed(0)).join(", ")})`,
  );
  report(
    "  the consumer writing each round's events just before it (one consumer, batches of 100), median",
    `${median(writes).toFixed(0)} events/s (rounds ${writes.map((r) => r.toFixed(0)).join(", ")})`,
  );
  report(
    "  drain rate / that round's write rate, median (target >= 3x); median drain / one shard's consumer rate of (1)",
    `${median(ratios).toFixed(2)}x (rounds ${ratios.map((r) => r.toFixed(2)).join(", ")}); ${(drain / oneShardRate).toFixed(2)}x`,
  );
  // The same again with smaller chunks (a setting of the cron, not of the code): what per-chunk costs weigh.
  const again = await writeFresh(DRAIN_ROUNDS);
  const other = await drainAll(OTHER_CHUNK_EVENTS);
  expect(other.rolled).toBe(again.written);
  report(
    `  the same with chunks of ${OTHER_CHUNK_EVENTS}: drain; / the write rate just before`,
    `${fmtRate(other.rolled, other.ms)}; ${(perSecond(other.rolled, other.ms) / perSecond(again.written, again.writeMs)).toFixed(2)}x`,
  );
});
