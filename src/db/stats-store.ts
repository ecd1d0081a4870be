// Reads of the stats rollups for the Stats, Tags and Metrics APIs: sums of counter columns over a
// bucket range, grouped by time, domain, tag or dimension value. Never reads the events table
// (design rule 5). The rows of a query's domains are in their stats databases (stats-shards.ts):
// each is asked once, all at once, and the sums merged. Bindings: DB and the stats databases.
import type { DimensionKind } from "../domain/rollup-plan";
import { type Counts, STATS_COUNTERS } from "../domain/stats-counters";
import type { EventsBindings } from "./shards";
import { statsDatabases } from "./stats-shards";

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

/**
 * The summed counters of a query, grouped as asked and ordered by the group columns: each stats
 * database holding any of its domains (every one when the query names none, or excludes some) is
 * asked at once, and rows of the same group from different databases are added up.
 */
export async function sumCounters(env: EventsBindings, query: CounterQuery): Promise<CounterRow[]> {
  const named = query.domains && !query.domains.negate ? query.domains.values : undefined;
  const parts = await Promise.all(
    statsDatabases(env)
      .counterReaders(named)
      .map((db) => sumCountersIn(db, query)),
  );
  if (parts.length === 1) return parts[0]!;
  const merged = new Map<string, CounterRow>();
  for (const row of parts.flat()) {
    const key = JSON.stringify(query.groupBy.map((column) => row[column]));
    const into = merged.get(key);
    if (!into) merged.set(key, { ...row });
    else for (const name of STATS_COUNTERS) into[name] += row[name];
  }
  return [...merged.values()].sort((a, b) => compareGroups(a, b, query.groupBy));
}

function compareGroups(a: CounterRow, b: CounterRow, groupBy: GroupColumn[]): number {
  for (const column of groupBy) {
    const [x, y] = [a[column], b[column]];
    if (x === y) continue;
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    // SQLite's order as the one-database query sorts: numbers before text, text by BINARY, which for
    // the ASCII of domains, tags and dimension values is JavaScript's order too.
    if (typeof x === "number" && typeof y === "number") return x - y;
    if (typeof x === "number") return -1;
    if (typeof y === "number") return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

async function sumCountersIn(db: D1Database, query: CounterQuery): Promise<CounterRow[]> {
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
