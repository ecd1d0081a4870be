import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { compileEventQuery, TEXT_INDEX_MAX_MATCHES } from "../../src/db/event-filters";
import { sparseTextMatch, textDrivenFrom } from "../../src/db/event-text";

const T0 = 1_720_000_000_000_000;
const run = crypto.randomUUID().slice(0, 8);
const DOMAIN = `drive-${run}.test`;
const OTHER = `drive-other-${run}.test`;
const RARE = `Zeppelin${run}`;
const DENSE = `Newsletter${run}`;

beforeAll(async () => {
  // 400 events of DOMAIN, one in 40 with the rare word (some also saying "delayed"), and the rare
  // word in another domain too, interleaved in time; DENSE_ROWS events of a dense word elsewhere.
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 399)
     INSERT INTO events (id, domain, ts, event, recipient, from_header, subject, body)
     SELECT ?1 || '/' || i, CASE WHEN i % 7 = 3 THEN ?2 ELSE ?1 END, ?3 + i * 10, 'delivered', 'r@example.org', 'Shop <s@x.example>',
            CASE WHEN i % 40 = 5 THEN ?4 || CASE WHEN i % 80 = 5 THEN ' delayed' ELSE '' END ELSE 'Routine update' END, '{}' FROM n`,
  )
    .bind(DOMAIN, OTHER, T0, `Quarterly ${RARE} report`)
    .run();
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO events (id, domain, ts, event, recipient, subject, body)
     SELECT ?2 || '/dense/' || i, ?2, ?3 + i, 'delivered', 'r@example.org', ?4, '{}' FROM n`,
  )
    .bind(TEXT_INDEX_MAX_MATCHES, OTHER, T0 + 1, DENSE)
    .run();
});

/** A page as the store reads one: from the time index (the walk), or driven from the text index. */
async function page(filters: Record<string, string[]>, drive: boolean, options: { ascending?: boolean; after?: [number, string]; lo?: number } = {}) {
  const text = drive ? await sparseTextMatch(env.DB, compileEventQuery(filters).textMatches) : null;
  if (drive) expect(text).not.toBeNull();
  const compiled = compileEventQuery(filters, text ? { drivenBy: text } : {});
  const from = text ? textDrivenFrom(text) : { sql: "events AS e", params: [] };
  const direction = options.ascending ? "ASC" : "DESC";
  const conditions = ["e.domain = ?", compiled.sql];
  const params: unknown[] = [...from.params, DOMAIN, ...compiled.params];
  if (options.lo !== undefined) {
    conditions.push("e.ts >= ?");
    params.push(options.lo);
  }
  if (options.after) {
    conditions.push(options.ascending ? "(e.ts, e.id) > (?, ?)" : "(e.ts, e.id) < (?, ?)");
    params.push(...options.after);
  }
  const sql = `SELECT e.ts AS ts, e.id AS id FROM ${from.sql} WHERE ${conditions.join(" AND ")} ORDER BY e.ts ${direction}, e.id ${direction} LIMIT 4`;
  const { results } = await env.DB.prepare(sql)
    .bind(...params)
    .all<{ ts: number; id: string }>();
  return { ids: results.map((r) => r.id), sql, params };
}

describe("a page driven from a text index", () => {
  it("picks the sparsest text match of the filters, and none past TEXT_INDEX_MAX_MATCHES", async () => {
    const both = compileEventQuery({ subject: [RARE], from: ["Shop"] }).textMatches;
    expect(both.map((t) => t.table)).toEqual(["events_text_subject", "events_text_from"]);
    expect(await sparseTextMatch(env.DB, both)).toEqual(both[0]);
    expect(await sparseTextMatch(env.DB, compileEventQuery({ subject: [DENSE] }).textMatches)).toBeNull();
    expect(await sparseTextMatch(env.DB, compileEventQuery({ subject: ["NOT x"] }).textMatches)).toBeNull();
  });

  it("gives the walk's page, in both orders, after an anchor, within a range, with other terms", async () => {
    const cases: Array<Record<string, string[]>> = [
      { subject: [RARE] },
      { subject: [`${RARE} AND NOT delayed`] },
      { subject: [RARE.toUpperCase()], from: ["shop"] },
    ];
    for (const filters of cases) {
      for (const ascending of [false, true]) {
        const walked = await page(filters, false, { ascending });
        expect(walked.ids.length).toBe(4);
        expect((await page(filters, true, { ascending })).ids).toEqual(walked.ids);
        const anchor: [number, string] = [T0 + Number(walked.ids[1]!.split("/")[1]) * 10, walked.ids[1]!];
        const after = await page(filters, false, { ascending, after: anchor });
        expect(after.ids.length).toBeGreaterThan(0);
        expect((await page(filters, true, { ascending, after: anchor })).ids).toEqual(after.ids);
        expect((await page(filters, true, { ascending, lo: T0 + 2000 })).ids).toEqual((await page(filters, false, { ascending, lo: T0 + 2000 })).ids);
      }
    }
  });

  it("reads the index first and each event by rowid, not the domain's time index", async () => {
    const { sql, params } = await page({ subject: [RARE] }, true);
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    const steps = results.map((r) => r.detail);
    expect(steps[0]).toMatch(/^SCAN events_text_subject VIRTUAL TABLE/);
    expect(steps[1]).toMatch(/^SEARCH e USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    // The driving index's own narrowing is not repeated in the condition.
    expect(sql.match(/events_text_subject MATCH/g)).toHaveLength(1);
  });
});
