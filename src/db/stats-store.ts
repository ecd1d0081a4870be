// Reads of the stats rollups for the Stats, Tags and Metrics APIs: sums of counter columns over a
// bucket range, grouped by time, domain, tag or dimension value. Never reads the events table
// (design rule 5). Bindings: DB.
import type { DimensionKind } from "../domain/rollup-plan";
import { type Counts, STATS_COUNTERS } from "../domain/stats-counters";

export type GroupColumn = "bucket" | "domain" | "tag" | "value";

export interface ValueFilter {
  negate: boolean;
  values: string[];
}

export interface CounterQuery {
  /** stats_counters, or stats_dimensions of one kind (daily only). */
  source: "counters" | DimensionKind;
  resolution: "hour" | "day";
  /** Bucket starts, unix seconds, inclusive. */
  from: number;
  to: number;
  /** Undefined: every domain. */
  domains?: ValueFilter;
  /** Undefined: the all-tags rows (tag ''), unless grouping by tag, which reads every real tag. */
  tags?: ValueFilter;
  values?: ValueFilter;
  groupBy: GroupColumn[];
}

export type CounterRow = Counts & { bucket?: number; domain?: string; tag?: string; value?: string };

function inList(column: string, filter: ValueFilter, params: unknown[]): string {
  // One value as `=`, so the planner walks the primary key (domain, tag, ...) instead of the time index.
  if (filter.values.length === 1) {
    params.push(filter.values[0]);
    return `${column} ${filter.negate ? "<>" : "="} ?`;
  }
  params.push(JSON.stringify(filter.values));
  return `${column} ${filter.negate ? "NOT IN" : "IN"} (SELECT value FROM json_each(?))`;
}

export async function sumCounters(db: D1Database, query: CounterQuery): Promise<CounterRow[]> {
  const dimension = query.source !== "counters";
  const time = dimension ? "day" : "bucket";
  const params: unknown[] = [];
  const where: string[] = [];
  if (query.domains) where.push(inList("domain", query.domains, params));
  if (query.tags) where.push(inList("tag", query.tags, params), "tag <> ''");
  else where.push(query.groupBy.includes("tag") ? "tag <> ''" : "tag = ''");
  if (dimension) {
    where.push("kind = ?");
    params.push(query.source);
    if (query.values) where.push(inList("value", query.values, params));
  } else {
    where.push("resolution = ?");
    params.push(query.resolution);
  }
  where.push(`${time} BETWEEN ? AND ?`);
  params.push(query.from, query.to);
  const groups = query.groupBy.map((column) => (column === "bucket" ? time : column));
  const sums = STATS_COUNTERS.map((name) => `sum(${name})`);
  // Rows come back as one JSON text (an array of arrays): two months of hours is ~1,500 rows, and
  // one value crosses the D1 boundary far faster than 1,500 row objects.
  const sql = `SELECT '[' || coalesce(group_concat(row, ','), '') || ']' AS rows FROM (
    SELECT json_array(${[...groups, ...sums].join(", ")}) AS row FROM ${dimension ? "stats_dimensions" : "stats_counters"}
    WHERE ${where.join(" AND ")}${groups.length ? ` GROUP BY ${groups.join(", ")} ORDER BY ${groups.join(", ")}` : ""})`;
  const text = (await db
    .prepare(sql)
    .bind(...params)
    .first<{ rows: string }>())!.rows;
  const names = [...query.groupBy, ...STATS_COUNTERS];
  const rows = (JSON.parse(text) as Array<Array<string | number | null>>).map(
    (values) => Object.fromEntries(names.map((name, i) => [name, values[i]])) as CounterRow,
  );
  // A sum over no rows is one row of NULLs.
  return rows.filter((row) => row.opened !== null);
}
