// The subject/from "contains" filters over the trigram indexes (migrations-events/0002,
// src/db/event-text.ts), measured on the events bench/events-scale.bench.ts loaded into the event
// shards, through the Events API as a client reads them. The same-run baseline is the same term
// written as `term OR term`: a term only under OR is not served by an index, so that query walks
// the domain's time index in each day's shard and tests every row, as every contains-filter did
// before the indexes. Also: the indexes' bytes, and the insert cost of their triggers.
import { insertEvents } from "../../src/db/events-store";
import { randomId } from "../../src/domain/base64url";
import { holdsEvents } from "../../src/domain/event-shards";
import { type MailgunEvent, toEventRow } from "../../src/domain/tracking-event";
import { AUTH, benchEnv, call, percentile, report } from "../harness";
import { type ProductionShape, productionEvents } from "./production-events";

const RUNS = 20;
const WARM_UP = 3;
const SPARSE = 20;

/** The Worker's D1 databases: the control database and every event shard. */
function databases(): D1Database[] {
  return Object.entries(benchEnv)
    .filter(([name]) => holdsEvents(name))
    .map(([, db]) => db as D1Database);
}

async function timed(domain: string, query: string): Promise<string> {
  const samples: number[] = [];
  let items = 0;
  for (let run = 0; run < RUNS + WARM_UP; run++) {
    const began = performance.now();
    const response = await call(`http://127.0.0.1/v3/${domain}/events?${query}&limit=100`, { headers: AUTH });
    items = (await response.json<{ items: unknown[] }>()).items.length;
    if (run >= WARM_UP) samples.push(performance.now() - began);
  }
  return `${percentile(samples, 50).toFixed(0)} / ${percentile(samples, 95).toFixed(0)} ms (${items})`;
}

/** `count` copies of events of the domain spread over its pages, with another subject or From, written through the store. */
async function plantSparse(domain: string, count: number, header: "subject" | "from", text: string): Promise<void> {
  const rows = [];
  const first = `http://127.0.0.1/v3/${domain}/events?limit=300`;
  let url = first;
  for (let i = 0; i < count; i++) {
    let page = await (await call(url, { headers: AUTH })).json<{ items: MailgunEvent[]; paging: { next: string } }>();
    // A small load (BENCH_SCALE_BIGGEST) runs out of pages: start again from the newest.
    if (page.items.length === 0) page = await (await call((url = first), { headers: AUTH })).json();
    const event = structuredClone(page.items[0]!);
    event.id = randomId();
    event.message = { ...event.message, headers: { ...(event.message?.headers ?? {}), [header]: text } } as MailgunEvent["message"];
    rows.push(toEventRow(domain, event));
    // About 50 pages of 300 apart, so the copies spread over the domain's days.
    for (let skip = 0; skip < 50; skip++) url = (await (await call(url, { headers: AUTH })).json<{ paging: { next: string } }>()).paging.next;
  }
  await insertEvents(benchEnv, rows);
}

export async function measureTextFilters(domain: string, shape: ProductionShape): Promise<void> {
  await plantSparse(domain, SPARSE, "subject", "Flash sale: pelican pens for the office");
  await plantSparse(domain, SPARSE, "from", "Pelican Pens Ltd <hello@pelican-pens.example>");
  const terms: Array<[string, string, string]> = [
    ["subject, dense (every event: Autumn)", "subject", "Autumn"],
    ["subject, medium (one campaign in 200: 'sale 17:')", "subject", "sale 17:"],
    [`subject, sparse (${SPARSE} events: pelican pens)`, "subject", "pelican pens"],
    ["subject, no match", "subject", "zzzz-no-such-subject"],
    ["from, dense (the domain's sender)", "from", "Customer 1 Store"],
    [`from, sparse (${SPARSE} events: Pelican Pens Ltd)`, "from", "Pelican Pens Ltd"],
    ["from, no match", "from", "nobody-sender.example"],
  ];
  report("subject/from contains: p50 / p95 ms (items), first page of 100", "indexed | `term OR term` (walks every day's shard: before the indexes)");
  for (const [label, field, term] of terms) {
    const indexed = await timed(domain, `${field}=${encodeURIComponent(`"${term}"`)}`);
    const walked = await timed(domain, `${field}=${encodeURIComponent(`"${term}" OR "${term}"`)}`);
    report(`  ${label}`, `${indexed} | ${walked}`);
  }

  // Bytes: D1 does not allow dbstat or page_count, so the indexes' leaf blocks are summed (FTS5
  // keeps each in one row of <table>_data, sized to fit one 4 KiB page), over every database.
  let events = 0;
  const bytes = { events_text_subject: 0, events_text_from: 0, events_text_to: 0 };
  for (const db of databases()) {
    events += (await db.prepare("SELECT count(*) AS n FROM events").first<{ n: number }>())!.n;
    for (const table of Object.keys(bytes) as Array<keyof typeof bytes>)
      bytes[table] += (await db.prepare(`SELECT coalesce(sum(length(block)), 0) AS b FROM ${table}_data`).first<{ b: number }>())!.b;
  }
  for (const [table, b] of Object.entries(bytes)) report(`  ${table}: bytes per event (block payload)`, `${(b / events).toFixed(0)} B`);
  const all = Object.values(bytes).reduce((a, b) => a + b, 0);
  report("text indexes, all three: bytes per event (block payload)", `${(all / events).toFixed(0)} B over ${events.toLocaleString("en")} events`);

  // The triggers' insert cost: the same store insert with and without the insert triggers (on
  // every database), in alternating rounds. Last in the run: rows written without the triggers are
  // not in the indexes, so nothing may read the text indexes after this.
  // Each database's own: the control database's fire on its events, an event shard's on its parts (migrations-events/0003).
  const triggersOf = new Map<D1Database, Array<{ name: string; sql: string }>>();
  for (const db of databases())
    triggersOf.set(
      db,
      (await db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'events_text_*_insert'").all<{ name: string; sql: string }>())
        .results,
    );
  const triggers = triggersOf.get(benchEnv.DB)!;
  const batches: Array<Parameters<typeof insertEvents>[1]> = [];
  for (const batch of productionEvents({ ...shape, domains: 20, biggest: 16_000, days: 1, seed: shape.seed + 1 }, 100)) {
    if (batches.push(batch) === 160) break;
  }
  const rate = { with: 0, without: 0, msWith: 0, msWithout: 0 };
  for (let round = 0; round < 8; round++) {
    for (const withTrigger of round % 2 === 0 ? [true, false] : [false, true]) {
      if (!withTrigger) for (const db of databases()) for (const { name } of triggersOf.get(db)!) await db.prepare(`DROP TRIGGER ${name}`).run();
      const began = performance.now();
      let rows = 0;
      for (const batch of batches.splice(0, 10)) {
        await insertEvents(benchEnv, batch);
        rows += batch.length;
      }
      const ms = performance.now() - began;
      if (withTrigger) {
        rate.with += rows;
        rate.msWith += ms;
      } else {
        rate.without += rows;
        rate.msWithout += ms;
        for (const db of databases()) for (const { sql } of triggersOf.get(db)!) await db.prepare(sql).run();
      }
    }
  }
  const perWith = (rate.msWith * 1000) / rate.with;
  const perWithout = (rate.msWithout * 1000) / rate.without;
  report(
    `store insert (batches of 100), µs per event with / without the ${triggers.length} text-index insert triggers`,
    `${perWith.toFixed(0)} / ${perWithout.toFixed(0)}: ${(perWith / perWithout).toFixed(2)}x`,
  );
}
