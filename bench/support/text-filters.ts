// The subject/from "contains" filters over the trigram indexes (migrations/0012, src/db/event-text.ts),
// measured on the events bench/events-scale.bench.ts loaded: each term read three ways in the same
// run, so the ratios hold on a noisy machine. "LIKE walk" is the condition every contains-filter
// compiled to before the indexes (the walk of the domain's time index); "condition" is what
// compileEventQuery gives now (the walk, each entry tested against the index's rowids while the
// term has at most TEXT_INDEX_MAX_MATCHES matches); "driven" reads the page from the index itself
// (sparseTextMatch + textDrivenFrom: what events-store does once it adopts them), falling back to
// the condition for a dense term. Also: the indexes' bytes, and the insert cost of their triggers.
import { compileEventQuery, type TextMatch } from "../../src/db/event-filters";
import { sparseTextMatch, textDrivenFrom } from "../../src/db/event-text";
import { insertEvents } from "../../src/db/events-store";
import { benchEnv, percentile, report } from "../harness";
import { type ProductionShape, productionEvents } from "./production-events";

const RUNS = 20;
const WARM_UP = 3;
const PAGE = 100;
const DEEP = 20;
const COLUMNS = { subject: "subject", from: "from_header" } as const;
type Mode = "LIKE walk" | "condition" | "driven";

interface Page {
  rows: Array<{ ts: number; id: string }>;
}

/** One page as events-store's listEvents reads it (newest first), in one of the three ways. */
async function readPage(domain: string, field: keyof typeof COLUMNS, term: string, mode: Mode, anchor?: [number, string]): Promise<Page> {
  const db = benchEnv.DB;
  let from = { sql: "events AS e", params: [] as unknown[] };
  let condition: { sql: string; params: unknown[] };
  if (mode === "LIKE walk") {
    condition = { sql: `coalesce(e.${COLUMNS[field]}, '') LIKE ? ESCAPE '\\'`, params: [`%${term.replace(/[\\%_]/g, "\\$&")}%`] };
  } else {
    const filters = { [field]: [`"${term}"`] };
    let text: TextMatch | null = null;
    if (mode === "driven") text = await sparseTextMatch(db, compileEventQuery(filters).textMatches);
    if (text) from = textDrivenFrom(text);
    // As the store does: once its own count found every text match dense, the condition does not count again.
    condition = compileEventQuery(filters, text ? { drivenBy: text } : mode === "driven" ? { denseText: true } : {});
  }
  const conditions = ["e.domain = ?", condition.sql];
  const params = [...from.params, domain, ...condition.params];
  if (anchor) {
    conditions.push("(e.ts, e.id) < (?, ?)");
    params.push(...anchor);
  }
  const sql = `SELECT e.ts AS ts, e.id AS id, e.body AS body FROM ${from.sql} WHERE ${conditions.join(" AND ")} ORDER BY e.ts DESC, e.id DESC LIMIT ?`;
  const { results } = await db
    .prepare(sql)
    .bind(...params, PAGE)
    .all<{ ts: number; id: string }>();
  return { rows: results };
}

async function timed(read: () => Promise<Page>): Promise<{ p50: number; p95: number; items: number }> {
  const samples: number[] = [];
  let items = 0;
  for (let run = 0; run < RUNS + WARM_UP; run++) {
    const began = performance.now();
    items = (await read()).rows.length;
    if (run >= WARM_UP) samples.push(performance.now() - began);
  }
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), items };
}

/** Copies of `count` of the domain's events spread over its days, with another subject or From. */
async function plantSparse(domain: string, count: number, column: string, text: string, suffix: string): Promise<void> {
  const { n } = (await benchEnv.DB.prepare("SELECT count(*) AS n FROM events WHERE domain = ?").bind(domain).first<{ n: number }>())!;
  const step = Math.max(1, Math.floor(n / count));
  await benchEnv.DB.prepare(
    `INSERT INTO events (id, domain, ts, event, severity, recipient, from_header, to_header, subject, message_id, size, body)
     SELECT id || ?3, domain, ts + 1, event, severity, recipient,
            CASE WHEN ?4 = 'from_header' THEN ?5 ELSE from_header END, to_header, CASE WHEN ?4 = 'subject' THEN ?5 ELSE subject END,
            message_id, size, body
     FROM (SELECT *, row_number() OVER (ORDER BY ts) AS k FROM events WHERE domain = ?1 AND id NOT LIKE '%-pelican%') WHERE k % ?2 = 0 LIMIT ?6`,
  )
    .bind(domain, step, suffix, column, text, count)
    .run();
}

export async function measureTextFilters(domain: string, shape: ProductionShape): Promise<void> {
  const SPARSE = 20;
  await plantSparse(domain, SPARSE, "subject", "Flash sale: pelican pens for the office", "-pelican");
  await plantSparse(domain, SPARSE, "from_header", "Pelican Pens Ltd <hello@pelican-pens.example>", "-pelican-from");
  const terms: Array<[string, keyof typeof COLUMNS, string]> = [
    ["subject, dense (every event: Autumn)", "subject", "Autumn"],
    ["subject, medium (one campaign in 200: 'sale 17:')", "subject", "sale 17:"],
    [`subject, sparse (${SPARSE} events: pelican pens)`, "subject", "pelican pens"],
    ["subject, no match", "subject", "zzzz-no-such-subject"],
    ["from, dense (the domain's sender)", "from", "Customer 1 Store"],
    [`from, sparse (${SPARSE} events: Pelican Pens Ltd)`, "from", "Pelican Pens Ltd"],
    ["from, no match", "from", "nobody-sender.example"],
  ];
  report("subject/from contains: p50 / p95 ms, first page of 100", "LIKE walk (before) | condition (now) | driven (events-store to adopt)");
  for (const [label, field, term] of terms) {
    const cells: string[] = [];
    for (const mode of ["LIKE walk", "condition", "driven"] as const) {
      const t = await timed(() => readPage(domain, field, term, mode));
      cells.push(`${t.p50.toFixed(1)} / ${t.p95.toFixed(1)} (${t.items})`);
    }
    report(`  ${label}`, cells.join(" | "));
  }
  report(`subject/from contains: p50 / p95 ms, page ${DEEP} of 100`, "LIKE walk (before) | condition (now) | driven (events-store to adopt)");
  for (const [label, field, term] of terms.filter(([, , term]) => term === "Autumn" || term === "sale 17:" || term === "Customer 1 Store")) {
    const cells: string[] = [];
    for (const mode of ["LIKE walk", "condition", "driven"] as const) {
      let page = await readPage(domain, field, term, mode);
      let anchor: [number, string] | undefined;
      for (let i = 1; i < DEEP && page.rows.length === PAGE; i++) {
        const last = page.rows.at(-1)!;
        anchor = [last.ts, last.id];
        page = await readPage(domain, field, term, mode, anchor);
      }
      const t = await timed(() => readPage(domain, field, term, mode, anchor));
      cells.push(`${t.p50.toFixed(1)} / ${t.p95.toFixed(1)} (${t.items})`);
    }
    report(`  ${label}`, cells.join(" | "));
  }

  // Bytes: D1 does not allow dbstat or page_count, so the indexes' leaf blocks are summed (FTS5
  // keeps each in one row of <table>_data, sized to fit one 4 KiB page).
  const { events } = (await benchEnv.DB.prepare("SELECT count(*) AS events FROM events").first<{ events: number }>())!;
  let payload = 0;
  let blocks = 0;
  for (const table of ["events_text_subject", "events_text_from", "events_text_to"]) {
    const row = (await benchEnv.DB.prepare(`SELECT count(*) AS blocks, sum(length(block)) AS bytes FROM ${table}_data`).first<{
      blocks: number;
      bytes: number;
    }>())!;
    report(`  ${table}: bytes per event (block payload / 4 KiB pages)`, `${(row.bytes / events).toFixed(0)} / ${((row.blocks * 4096) / events).toFixed(0)} B`);
    payload += row.bytes;
    blocks += row.blocks;
  }
  report(
    "text indexes, all three: bytes per event (block payload / 4 KiB pages)",
    `${(payload / events).toFixed(0)} / ${((blocks * 4096) / events).toFixed(0)} B over ${events.toLocaleString("en")} events`,
  );

  // The triggers' insert cost: the same store insert with and without the insert trigger, in
  // alternating rounds on the full database. Last in the run: rows written without the trigger are
  // not in the indexes, so nothing may read the text indexes after this.
  const triggers = (
    await benchEnv.DB.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'events_text_*_insert'").all<{
      name: string;
      sql: string;
    }>()
  ).results;
  const batches: Array<Parameters<typeof insertEvents>[1]> = [];
  for (const batch of productionEvents({ ...shape, domains: 20, biggest: 16_000, seed: shape.seed + 1 }, 100)) {
    if (batches.push(batch) === 160) break;
  }
  const rate = { with: 0, without: 0, msWith: 0, msWithout: 0 };
  for (let round = 0; round < 8; round++) {
    for (const withTrigger of round % 2 === 0 ? [true, false] : [false, true]) {
      if (!withTrigger) for (const { name } of triggers) await benchEnv.DB.prepare(`DROP TRIGGER ${name}`).run();
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
        for (const { sql } of triggers) await benchEnv.DB.prepare(sql).run();
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
