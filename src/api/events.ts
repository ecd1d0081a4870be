// Events API, Mailgun's: GET /v3/{domain}/events and GET /v3/{domain}/events/{page-token}.
// Paging URLs are absolute and end in an opaque base64url cursor (mailgun.js needs both); the
// form Ghost's analytics makes of them (domain/embedded-paging.ts) is answered too.
import { type Context, Hono } from "hono";
import { getDomain } from "../db/domains";
import { compileEventFilters, FILTER_FIELDS } from "../db/event-filters";
import { listEvents, type PageMode, type StoredEvent } from "../db/events-store";
import { type Cursor, decodeCursor, type EventQuery, encodeCursor } from "../domain/cursor";
import { parseMailgunDate } from "../domain/dates";
import { isPagingHostOurs, unwrapEventsLink } from "../domain/embedded-paging";
import { FilterSyntaxError } from "../domain/filter-expression";
import { readIntParam } from "../domain/integers";
import { parseYesNo } from "../domain/tracking-settings";
import type { ApiEnv } from "./context";
import { badRequest, notFound } from "./errors";

export const DEFAULT_EVENTS_LIMIT = 100;
export const MAX_EVENTS_LIMIT = 300;

function parseDate(name: string, value: string | undefined): number | null {
  if (value === undefined || value === "") return null;
  const micros = parseMailgunDate(value);
  if (micros === null) throw badRequest(`'${name}' must be an RFC 2822 date or epoch seconds, got '${value}'`);
  return micros;
}

/**
 * begin/end/ascending to a range and a direction. Without `ascending`, a begin after end means
 * descending (Mailgun's rule); a lone begin reads forward from it; no dates read newest first.
 */
export function parseEventQuery(domain: string, params: URLSearchParams): EventQuery {
  const begin = parseDate("begin", params.get("begin") ?? undefined);
  const end = parseDate("end", params.get("end") ?? undefined);
  const ascendingText = params.get("ascending");
  const ascendingFlag = ascendingText === null || ascendingText === "" ? null : parseYesNo(ascendingText);
  if (ascendingFlag === null && ascendingText) throw badRequest("'ascending' must be yes or no");
  if (begin !== null && end !== null && ascendingFlag !== null && ascendingFlag !== begin <= end) {
    throw badRequest("'ascending' contradicts the order of 'begin' and 'end'");
  }
  const ascending = ascendingFlag ?? (begin !== null && end !== null ? begin <= end : begin !== null);
  let lo: number | null = null;
  let hi: number | null = null;
  if (begin !== null && end !== null) [lo, hi] = [Math.min(begin, end), Math.max(begin, end)];
  else if (begin !== null) [lo, hi] = ascending ? [begin, null] : [null, begin];
  else if (end !== null) [lo, hi] = ascending ? [null, end] : [end, null];

  const limit = readIntParam(params.get("limit"), "limit", { min: 1, max: MAX_EVENTS_LIMIT, fallback: DEFAULT_EVENTS_LIMIT });
  if (typeof limit === "string") throw badRequest(limit);

  const filters: Record<string, string[]> = {};
  for (const name of FILTER_FIELDS) {
    const values = params.getAll(name).filter((v) => v.trim() !== "");
    if (values.length > 0) filters[name] = values;
  }
  checkFilters(filters);
  return { domain, lo, hi, ascending, limit, filters };
}

/** Rejects a filter that does not compile with a 400, before any query runs. */
function checkFilters(filters: Record<string, string[]>): void {
  try {
    compileEventFilters(filters);
  } catch (error) {
    if (error instanceof FilterSyntaxError) throw badRequest(`Invalid filter expression: ${error.message}`);
    throw error;
  }
}

function pagingFor(c: Context, cursor: Cursor, items: StoredEvent[]) {
  const base = `${new URL(c.req.url).origin}/v3/${encodeURIComponent(cursor.q.domain)}/events/`;
  const url = (m: PageMode, a?: [number, string]) => base + encodeCursor(a ? { q: cursor.q, m, a } : { q: cursor.q, m });
  const firstItem = items[0];
  const lastItem = items[items.length - 1];
  return {
    first: url("first"),
    last: url("last"),
    // On an empty page the anchors stay put, so polling `next` picks up events that arrive later.
    next: lastItem ? url("next", [lastItem.ts, lastItem.id]) : cursor.a ? url("next", cursor.a) : url("first"),
    previous: firstItem ? url("previous", [firstItem.ts, firstItem.id]) : cursor.a ? url("previous", cursor.a) : url("last"),
  };
}

async function answerPage(c: Context<ApiEnv>, cursor: Cursor): Promise<Response> {
  const domain = await getDomain(c.env.DB, cursor.q.domain);
  if (!domain) throw notFound("Domain not found");
  const items = await listEvents(c.env, cursor.q, cursor.m, cursor.a);
  // Bodies are stored as JSON text: splice them in rather than parse and re-serialize each one.
  const json = `{"items":[${items.map((item) => item.body).join(",")}],"paging":${JSON.stringify(pagingFor(c, cursor, items))}}`;
  return c.body(json, 200, { "content-type": "application/json; charset=utf-8" });
}

async function answerToken(c: Context<ApiEnv>, domain: string, token: string): Promise<Response> {
  const cursor = decodeCursor(token);
  if (!cursor) throw badRequest("Invalid page token");
  if (cursor.q.domain !== domain.toLowerCase() || cursor.q.domains) throw badRequest("The page token belongs to another domain");
  checkFilters(cursor.q.filters); // a token is input too: it may have been crafted
  return answerPage(c, cursor);
}

/** GET /v3http://host:port/v3/{d}/events/{token}: a paging link of ours as Ghost's analytics asks for it. */
async function answerEmbeddedLink(c: Context<ApiEnv>): Promise<Response> {
  const link = unwrapEventsLink(c.req.path);
  if (!link || !isPagingHostOurs(link.host, new URL(c.req.url).host, c.env.SHARED_HOSTS)) throw notFound("Not found");
  let domain: string;
  try {
    domain = decodeURIComponent(link.domain);
  } catch {
    throw notFound("Not found");
  }
  return answerToken(c, domain, link.token);
}

export const eventsApi = new Hono<ApiEnv>()
  .get("/v3/:domain/events", async (c) => {
    const domain = c.req.param("domain").toLowerCase();
    const query = parseEventQuery(domain, new URL(c.req.url).searchParams);
    return answerPage(c, { q: query, m: "first" });
  })
  .get("/v3/:domain/events/:token", (c) => answerToken(c, c.req.param("domain"), c.req.param("token")))
  .get("/v3http:/*", answerEmbeddedLink)
  .get("/v3https:/*", answerEmbeddedLink);
