// Stats API, Mailgun's: GET /v3/{domain}/stats/total, GET /v3/stats/total, and a tag's stats and
// aggregates (GET /v3/{d}/tags/{tag}/stats[/aggregates/countries|providers|devices] and the
// /v3/{d}/tag/stats?tag= forms). Read from the cron's rollups, never from events (design rule 5).
// Bindings: DB.
import { type Context, Hono } from "hono";
import { getDomain } from "../db/domains";
import { sumCounters } from "../db/stats-store";
import { getTag } from "../db/tags";
import type { DimensionKind } from "../domain/rollup-plan";
import { normalizeTag } from "../domain/stats-counters";
import { parseStatsEvents, parseStatsRange, StatsQueryError } from "../domain/stats-query";
import { shapeStats } from "../domain/stats-shape";
import { formatStatsDate } from "../domain/stats-time";
import type { ApiEnv } from "./context";
import { badRequest, notFound } from "./errors";

export async function requireDomain(c: Context<ApiEnv>, name = c.req.param("domain")!): Promise<string> {
  const domain = name.toLowerCase();
  if (!(await getDomain(c.env.DB, domain))) throw notFound("Domain not found");
  return domain;
}

/** The tag of a tag route: from the path, or `?tag=` in the spec's /tag forms. */
export function tagParam(c: Context<ApiEnv>): string {
  const tag = normalizeTag(c.req.param("tag") ?? c.req.query("tag") ?? "");
  if (!tag) throw badRequest("tag is required");
  return tag;
}

async function statsBody(c: Context<ApiEnv>, domains: string[] | undefined, tag: string | undefined) {
  const params = new URL(c.req.url).searchParams;
  try {
    const events = parseStatsEvents(params.getAll("event"));
    const range = parseStatsRange(
      {
        start: params.get("start") ?? undefined,
        end: params.get("end") ?? undefined,
        resolution: params.get("resolution") ?? undefined,
        duration: params.get("duration") ?? undefined,
      },
      Math.floor(Date.now() / 1000),
    );
    const rows = await sumCounters(c.env, {
      source: "counters",
      resolution: range.resolution === "hour" ? "hour" : "day",
      from: range.buckets[0]!,
      to: range.end,
      domains: domains && { negate: false, values: domains },
      tags: tag === undefined ? undefined : { negate: false, values: [tag] },
      groupBy: ["bucket"],
    });
    return {
      start: formatStatsDate(range.buckets[0]!),
      end: formatStatsDate(range.end),
      resolution: range.resolution,
      stats: shapeStats(rows, range.buckets, range.resolution, events),
    };
  } catch (error) {
    if (error instanceof StatsQueryError) throw badRequest(error.message);
    throw error;
  }
}

async function tagStats(c: Context<ApiEnv>) {
  const domain = await requireDomain(c);
  const tag = tagParam(c);
  const body = await statsBody(c, [domain], tag);
  // Mailgun keeps a deleted tag's stats: they stay readable, with an empty description.
  return c.json({ tag, description: (await getTag(c.env, domain, tag))?.description ?? "", ...body });
}

/**
 * Mailgun's aggregate keys: country and device carry engagement only; provider adds accepted and
 * delivered. Maps, not objects: the request names the key, and built-in names must not match.
 */
const AGGREGATES = new Map<string, { kind: DimensionKind; key: string }>([
  ["countries", { kind: "country", key: "country" }],
  ["providers", { kind: "provider", key: "provider" }],
  ["devices", { kind: "device", key: "device" }],
]);

async function tagAggregates(c: Context<ApiEnv>, which: string) {
  const domain = await requireDomain(c);
  const tag = tagParam(c);
  const aggregate = AGGREGATES.get(which);
  if (!aggregate) throw badRequest("type must be country, provider or device");
  // Every retained day (a year): Mailgun's aggregates take no time range.
  const rows = await sumCounters(c.env, {
    source: aggregate.kind,
    resolution: "day",
    from: 0,
    to: Number.MAX_SAFE_INTEGER,
    domains: { negate: false, values: [domain] },
    tags: { negate: false, values: [tag] },
    groupBy: ["value"],
  });
  // A Map, turned into an object at the end: fromEntries defines own keys, so no stored value can
  // land on a built-in property (a value "__proto__" would otherwise vanish into the prototype).
  const values = new Map<string, Record<string, number>>();
  for (const row of rows) {
    const engagement = {
      clicked: row.clicked,
      complained: row.complained,
      opened: row.opened,
      unique_clicked: row.clicked_unique,
      unique_opened: row.opened_unique,
      unsubscribed: row.unsubscribed,
    };
    values.set(
      row.value!,
      aggregate.kind === "provider"
        ? { accepted: row.accepted_incoming + row.accepted_outgoing, delivered: row.delivered_smtp + row.delivered_http, ...engagement }
        : engagement,
    );
  }
  return c.json({ tag, [aggregate.key]: Object.fromEntries(values) });
}

const TYPE_TO_PATH = new Map([
  ["country", "countries"],
  ["provider", "providers"],
  ["device", "devices"],
]);

export const statsApi = new Hono<ApiEnv>()
  .get("/v3/stats/total", async (c) => c.json(await statsBody(c, undefined, undefined)))
  .get("/v3/:domain/stats/total", async (c) => c.json(await statsBody(c, [await requireDomain(c)], undefined)))
  .get("/v3/:domain/tags/:tag/stats", tagStats)
  .get("/v3/:domain/tag/stats", tagStats)
  .get("/v3/:domain/tags/:tag/stats/aggregates/:which", (c) => tagAggregates(c, c.req.param("which")))
  .get("/v3/:domain/tag/stats/aggregates", (c) => tagAggregates(c, TYPE_TO_PATH.get(c.req.query("type") ?? "") ?? ""));
