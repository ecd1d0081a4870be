// Mailgun's Logs API, POST /v1/analytics/logs (what replaces Events in new clients): the same query
// engine as the Events API (db/events-store.ts, db/event-filters.ts), over one or more domains,
// with page tokens instead of URLs. Bindings: DB.
import { Hono } from "hono";
import { listDomains } from "../db/domains";
import { compileEventFilters } from "../db/event-filters";
import { countEvents, eventReads, listEvents, type StoredEvent } from "../db/events-store";
import { type Cursor, decodeCursor, type EventQuery, encodeCursor } from "../domain/cursor";
import { parseMailgunDate } from "../domain/dates";
import { FilterSyntaxError } from "../domain/filter-expression";
import * as z from "../domain/zod";
import type { ApiEnv } from "./context";
import { badRequest } from "./errors";
import { readJsonBody } from "./json-body";

const MAX_LOGS_LIMIT = 100;
const DEFAULT_SPAN_US = 86_400 * 1e6;

const logsSchema = z.object({
  start: z.optional(z.string()),
  end: z.optional(z.string()),
  duration: z.optional(z.string()),
  events: z.optional(z.array(z.string())),
  filter: z.optional(
    z.object({
      AND: z.array(
        z.object({ attribute: z.string(), comparator: z.string(), values: z.array(z.object({ label: z.optional(z.string()), value: z.string() })) }),
      ),
    }),
  ),
  include_subaccounts: z.optional(z.boolean()),
  include_totals: z.optional(z.boolean()),
  pagination: z.optional(
    z.object({
      sort: z.optional(z.enum(["timestamp:asc", "timestamp:desc"])),
      token: z.optional(z.string()),
      limit: z.optional(z.int().check(z.gte(1), z.lte(MAX_LOGS_LIMIT))),
    }),
  ),
});

/**
 * Logs filter attribute -> Events API filter field (each matches as it does in the Events API).
 * A Map: the request names the attribute, and built-in names such as constructor must not match.
 */
const ATTRIBUTES = new Map([
  ["event", "event"],
  ["recipient", "recipient"],
  ["from", "from"],
  ["to", "to"],
  ["subject", "subject"],
  ["message_id", "message-id"],
  ["tag", "tags"],
  ["severity", "severity"],
  ["size", "size"],
]);
const SUBSTRING_FIELDS = new Set(["from", "to", "subject"]);

/** Values become a quoted OR expression of the Events API's filter language. */
function expression(values: string[], negate: boolean): string {
  for (const value of values) if (value.includes('"')) throw badRequest('filter values cannot contain "');
  const or = values.map((value) => `"${value}"`).join(" OR ");
  return negate ? `NOT (${or})` : `(${or})`;
}

function parseDate(name: string, text: string | undefined): number | null {
  if (!text) return null;
  const micros = parseMailgunDate(text);
  if (micros === null) throw badRequest(`'${name}' must be an RFC 2822 date or epoch seconds, got '${text}'`);
  return micros;
}

function checkFilters(filters: Record<string, string[]>): void {
  try {
    compileEventFilters(filters);
  } catch (error) {
    if (error instanceof FilterSyntaxError) throw badRequest(`Invalid filter: ${error.message}`);
    throw error;
  }
}

async function queryOf(env: ApiEnv["Bindings"], body: z.infer<typeof logsSchema>): Promise<EventQuery> {
  const filters: Record<string, string[]> = {};
  let domains: string[] | undefined;
  for (const { attribute, comparator, values } of body.filter?.AND ?? []) {
    const list = values.map((v) => v.value);
    if (attribute === "domain") {
      if (comparator !== "=") throw badRequest("domain filters take the = comparator");
      domains = list.map((d) => d.toLowerCase());
      continue;
    }
    const field = ATTRIBUTES.get(attribute);
    if (!field) throw badRequest(`Unsupported filter attribute '${attribute}'`);
    const contains = comparator === "contains" || comparator === "not contains";
    if (!["=", "!=", "contains", "not contains"].includes(comparator) || (contains && !SUBSTRING_FIELDS.has(field))) {
      throw badRequest(`Unsupported comparator '${comparator}' for '${attribute}'`);
    }
    (filters[field] ??= []).push(expression(list, comparator.startsWith("!") || comparator.startsWith("not")));
  }
  if (body.events?.length) {
    for (const name of body.events) if (name.startsWith("unique_")) throw badRequest(`'${name}' is not supported: unique counts are in the Metrics API`);
    (filters.event ??= []).push(expression(body.events, false));
  }
  checkFilters(filters);
  if (!domains) {
    const { total, items } = await listDomains(env.DB, { limit: 1000, skip: 0 });
    if (total > 1000) throw badRequest("More than 1000 domains: filter on domain");
    domains = items.map((d) => d.name);
  }
  const hi = parseDate("end", body.end) ?? Date.now() * 1000;
  const lo = parseDate("start", body.start) ?? hi - DEFAULT_SPAN_US;
  if (lo > hi) throw badRequest("'start' must not be later than 'end'");
  const ascending = body.pagination?.sort === "timestamp:asc";
  return { domain: domains[0] ?? "", domains, lo, hi, ascending, limit: body.pagination?.limit ?? MAX_LOGS_LIMIT, filters };
}

function logItem(stored: StoredEvent): Record<string, unknown> {
  const { timestamp, ...event } = JSON.parse(stored.body) as Record<string, unknown>;
  return { ...event, "@timestamp": new Date(Math.floor((timestamp as number) * 1000)).toISOString(), domain: { name: stored.domain } };
}

export const logsApi = new Hono<ApiEnv>().post("/v1/analytics/logs", async (c) => {
  const body = await readJsonBody(c, logsSchema);
  let cursor: Cursor;
  if (body.pagination?.token) {
    const decoded = decodeCursor(body.pagination.token);
    if (!decoded?.q.domains) throw badRequest("Invalid page token");
    checkFilters(decoded.q.filters); // a token is input too: it may have been crafted
    cursor = decoded;
  } else cursor = { q: await queryOf(c.env, body), m: "first" };
  // The page and its total side by side, sharing their lookups (eventReads).
  const reads = eventReads();
  const now = Date.now();
  const [items, total] = await Promise.all([
    listEvents(c.env, cursor.q, cursor.m, cursor.a, now, reads),
    body.include_totals ? countEvents(c.env, cursor.q, now, reads) : undefined,
  ]);
  const token = (m: Cursor["m"], a?: [number, string]) => encodeCursor(a ? { q: cursor.q, m, a } : { q: cursor.q, m });
  const first = items[0];
  const last = items[items.length - 1];
  const pagination: Record<string, unknown> = {
    first: token("first"),
    last: token("last"),
    next: last ? token("next", [last.ts, last.id]) : cursor.a ? token("next", cursor.a) : token("first"),
    previous: first ? token("previous", [first.ts, first.id]) : cursor.a ? token("previous", cursor.a) : token("last"),
  };
  if (total !== undefined) pagination.total = total;
  const date = (micros: number | null) => (micros === null ? "" : new Date(micros / 1000).toUTCString());
  return c.json({ start: date(cursor.q.lo), end: date(cursor.q.hi), items: items.map(logItem), pagination, aggregates: {} });
});
