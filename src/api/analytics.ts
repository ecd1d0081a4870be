// Mailgun's account-level analytics: POST /v1/analytics/metrics (counts and rates from the stats
// rollups, by time, domain, tag, country, device or bot) and the tags API of mg.tags
// (POST/PUT/DELETE /v1/analytics/tags, GET /v1/analytics/tags/limits). Bindings: DB.
import { Hono } from "hono";
import { type CounterRow, type GroupColumn, sumCounters, type ValueFilter } from "../db/stats-store";
import { deleteAccountTag, describeAccountTag, listAccountTags, mostTagsInADomain } from "../db/tags";
import { MAX_SKIP_ROWS } from "../domain/integers";
import { computeMetrics, isMetric } from "../domain/metrics";
import type { DimensionKind } from "../domain/rollup-plan";
import { MAX_TAGS_PER_DOMAIN, normalizeTag, zeroCounts } from "../domain/stats-counters";
import { parseStatsRange, StatsQueryError } from "../domain/stats-query";
import { addCounts } from "../domain/stats-shape";
import { bucketStart } from "../domain/stats-time";
import * as z from "../domain/zod";
import type { ApiEnv } from "./context";
import { badRequest, notFound } from "./errors";
import { readJsonBody } from "./json-body";

const filterSchema = z.object({
  AND: z.array(z.object({ attribute: z.string(), comparator: z.string(), values: z.array(z.object({ label: z.optional(z.string()), value: z.string() })) })),
});
const metricsSchema = z.object({
  start: z.optional(z.string()),
  end: z.optional(z.string()),
  resolution: z.optional(z.string()),
  duration: z.optional(z.string()),
  dimensions: z._default(z.array(z.string()), []),
  metrics: z.array(z.string()).check(z.minLength(1, "metrics: name at least one metric")),
  filter: z.optional(filterSchema),
  include_subaccounts: z.optional(z.boolean()),
  include_aggregates: z.optional(z.boolean()),
  pagination: z.optional(
    z.object({
      sort: z.optional(z.string()),
      skip: z._default(z.int().check(z.gte(0), z.lte(MAX_SKIP_ROWS)), 0),
      limit: z._default(z.int().check(z.gte(1), z.lte(1500)), 1500),
    }),
  ),
});

/** mg.tags.list with include_metrics: Mailgun caps the page at 20; the counts cover the last 30 days. */
const MAX_TAGS_WITH_METRICS = 20;
const TAG_METRICS_DAYS = 30;
const TAG_METRICS = [
  "accepted_count",
  "delivered_count",
  "failed_count",
  "opened_count",
  "unique_opened_count",
  "clicked_count",
  "unique_clicked_count",
  "unsubscribed_count",
  "complained_count",
];

const DIMENSIONS = ["time", "domain", "tag", "country", "device", "bot"] as const;
type Dimension = (typeof DIMENSIONS)[number];
const SPLIT_KINDS: DimensionKind[] = ["country", "device", "bot"];
const GROUP_OF: Record<Dimension, GroupColumn> = { time: "bucket", domain: "domain", tag: "tag", country: "value", device: "value", bot: "value" };

/** "Wed, 01 Nov 2023 00:00:00 +0000", the Metrics API's date form. */
const metricsDate = (seconds: number) => new Date(seconds * 1000).toUTCString().replace(/GMT$/, "+0000");

function dimensionValue(dimension: Dimension, row: CounterRow, bucket: number) {
  if (dimension === "time") return { dimension, value: metricsDate(bucket), display_value: metricsDate(bucket) };
  const value = dimension === "domain" ? row.domain! : dimension === "tag" ? row.tag! : row.value!;
  return { dimension, value, display_value: dimension === "bot" && value === "" ? "human" : value };
}

export const analyticsApi = new Hono<ApiEnv>()
  .post("/v1/analytics/metrics", async (c) => {
    const body = await readJsonBody(c, metricsSchema);
    for (const name of body.dimensions)
      if (!DIMENSIONS.includes(name as Dimension)) throw badRequest(`Unsupported dimension '${name}': use ${DIMENSIONS.join(", ")}`);
    for (const name of body.metrics) if (!isMetric(name)) throw badRequest(`Unsupported metric '${name}'`);
    const dimensions = body.dimensions as Dimension[];
    let range;
    try {
      range = parseStatsRange(body, Math.floor(Date.now() / 1000));
    } catch (error) {
      if (error instanceof StatsQueryError) throw badRequest(error.message);
      throw error;
    }
    const filters: Partial<Record<Dimension, ValueFilter>> = {};
    for (const condition of body.filter?.AND ?? []) {
      if (!DIMENSIONS.includes(condition.attribute as Dimension) || condition.attribute === "time")
        throw badRequest(`Unsupported filter attribute '${condition.attribute}'`);
      if (condition.comparator !== "=" && condition.comparator !== "!=") throw badRequest(`Unsupported comparator '${condition.comparator}': use = or !=`);
      const values = condition.values.map((v) =>
        condition.attribute === "tag" ? (normalizeTag(v.value) ?? "") : condition.attribute === "bot" ? v.value : v.value.toLowerCase(),
      );
      filters[condition.attribute as Dimension] = { negate: condition.comparator === "!=", values };
    }
    // Country, device and bot are kept one at a time, per day (stats_dimensions).
    const kinds = SPLIT_KINDS.filter((kind) => dimensions.includes(kind as Dimension) || filters[kind as Dimension]);
    if (kinds.length > 1) throw badRequest("Only one of country, device and bot can be used in one query");
    const kind = kinds[0];
    if (kind && range.resolution === "hour") throw badRequest(`The ${kind} dimension has daily and monthly resolution only`);

    const rows = await sumCounters(c.env, {
      source: kind ?? "counters",
      resolution: range.resolution === "hour" ? "hour" : "day",
      from: range.buckets[0]!,
      to: range.end,
      domains: filters.domain,
      tags: filters.tag,
      values: kind ? filters[kind as Dimension] : undefined,
      groupBy: [...new Set(dimensions.map((d) => GROUP_OF[d]))],
    });
    // Months fold daily rows; rows of one group and bucket are summed.
    const groups = new Map<string, { row: CounterRow; bucket: number; counts: ReturnType<typeof zeroCounts> }>();
    const total = zeroCounts();
    for (const row of rows) {
      const bucket = bucketStart(row.bucket ?? 0, range.resolution);
      const key = JSON.stringify([bucket, row.domain, row.tag, row.value]);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { row, bucket, counts: zeroCounts() }));
      addCounts(group.counts, row);
      addCounts(total, row);
    }
    const sorted = [...groups.values()].sort(
      (a, b) =>
        a.bucket - b.bucket || JSON.stringify([a.row.domain, a.row.tag, a.row.value]).localeCompare(JSON.stringify([b.row.domain, b.row.tag, b.row.value])),
    );
    const { skip = 0, limit = 1500, sort = "" } = body.pagination ?? {};
    return c.json({
      start: metricsDate(range.start),
      end: metricsDate(range.end),
      resolution: range.resolution,
      duration: body.duration ?? "",
      dimensions,
      pagination: { sort, skip, limit, total: sorted.length },
      items: sorted.slice(skip, skip + limit).map((group) => ({
        dimensions: dimensions.map((d) => dimensionValue(d, group.row, group.bucket)),
        metrics: computeMetrics(body.metrics, group.counts),
      })),
      aggregates: { metrics: body.include_aggregates ? computeMetrics(body.metrics, total) : {} },
    });
  })
  .post("/v1/analytics/tags", async (c) => {
    const body = await readJsonBody(
      c,
      z.object({
        tag: z.optional(z.string()),
        include_subaccounts: z.optional(z.boolean()),
        include_metrics: z.optional(z.boolean()),
        pagination: z.optional(
          z.object({
            sort: z.optional(z.string()),
            skip: z._default(z.int().check(z.gte(0), z.lte(MAX_SKIP_ROWS)), 0),
            limit: z._default(z.int().check(z.gte(1), z.lte(1000)), 100),
            include_total: z.optional(z.boolean()),
          }),
        ),
      }),
    );
    const { sort = "lastseen:desc", skip = 0, limit = 100 } = body.pagination ?? {};
    if (sort !== "lastseen:desc" && sort !== "lastseen:asc") throw badRequest("pagination.sort must be lastseen:desc or lastseen:asc");
    const prefix = body.tag ? (normalizeTag(body.tag) ?? undefined) : undefined;
    if (body.include_metrics && limit > MAX_TAGS_WITH_METRICS)
      throw badRequest(`pagination.limit must be at most ${MAX_TAGS_WITH_METRICS} with include_metrics`);
    const { total, items } = await listAccountTags(c.env, { prefix, skip, limit, ascending: sort === "lastseen:asc" });
    const metrics = new Map<string, Record<string, number | string>>();
    if (body.include_metrics && items.length > 0) {
      const now = Math.floor(Date.now() / 1000);
      const rows = await sumCounters(c.env, {
        source: "counters",
        resolution: "day",
        from: bucketStart(now - TAG_METRICS_DAYS * 86_400, "day"),
        to: now,
        tags: { negate: false, values: items.map((t) => t.tag) },
        groupBy: ["tag"],
      });
      for (const row of rows) metrics.set(row.tag!, computeMetrics(TAG_METRICS, row));
    }
    return c.json({
      items: items.map((t) => ({
        account_id: "",
        parent_account_id: "",
        tag: t.tag,
        description: t.description,
        first_seen: new Date(t.firstSeen).toISOString(),
        last_seen: new Date(t.lastSeen).toISOString(),
        metrics: body.include_metrics ? (metrics.get(t.tag) ?? computeMetrics(TAG_METRICS, zeroCounts())) : {},
        account_name: "",
      })),
      pagination: { sort, limit, skip, total },
    });
  })
  .put("/v1/analytics/tags", async (c) => {
    const body = await readJsonBody(c, z.object({ tag: z.string().check(z.minLength(1)), description: z.string() }));
    if (!(await describeAccountTag(c.env, normalizeTag(body.tag) ?? "", body.description))) throw notFound("tag not found");
    return c.json({ message: "Tag updated" });
  })
  .delete("/v1/analytics/tags", async (c) => {
    const body = await readJsonBody(c, z.object({ tag: z.string().check(z.minLength(1)) }));
    if (!(await deleteAccountTag(c.env, normalizeTag(body.tag) ?? ""))) throw notFound("tag not found");
    return c.json({ message: "Tag deleted" });
  })
  .get("/v1/analytics/tags/limits", async (c) => {
    const count = await mostTagsInADomain(c.env);
    return c.json({ limit: MAX_TAGS_PER_DOMAIN, count, limit_reached: count >= MAX_TAGS_PER_DOMAIN });
  });
