// Tags API, Mailgun's legacy per-domain form (what mg.domains.domainTags calls): list with paging,
// get, describe and delete a tag, by path (/v3/{d}/tags/{tag}) or query (/v3/{d}/tag?tag=), and
// the domain's tag limit. Tags are created by the stats rollup, not through the API. Bindings: DB.
import { type Context, Hono } from "hono";
import { countTags, deleteTag, describeTag, getTag, listTags, type TagPage, type TagRecord } from "../db/tags";
import { MAX_TAGS_PER_DOMAIN } from "../domain/stats-counters";
import { formatTagDate } from "../domain/stats-time";
import type { ApiEnv } from "./context";
import { badRequest, notFound } from "./errors";
import { field, readFields } from "./fields";
import { intQuery } from "./query-params";
import { requireDomain, tagParam } from "./stats";

const DEFAULT_TAGS_LIMIT = 100;
const MAX_TAGS_LIMIT = 1000;
/** A Map, not an object: `page` is named by the request, and built-in names must not match. */
const PAGES = new Map<string, TagPage>([
  ["first", "first"],
  ["last", "last"],
  ["next", "next"],
  ["prev", "prev"],
  ["previous", "prev"],
]);

const legacyTagJson = (record: TagRecord) => ({
  tag: record.tag,
  description: record.description,
  "first-seen": formatTagDate(record.firstSeen),
  "last-seen": formatTagDate(record.lastSeen),
});

function pagingFor(c: Context<ApiEnv>, domain: string, limit: number, items: TagRecord[], boundary: string | undefined, prefix: string | undefined) {
  // mailgun.js keeps what follows the "?" and reads the iterator position from `tag`.
  const url = (page: string, tag?: string) => {
    const query = new URLSearchParams({ limit: String(limit), page });
    if (tag !== undefined) query.set("tag", tag);
    if (prefix) query.set("prefix", prefix);
    return `${new URL(c.req.url).origin}/v3/${encodeURIComponent(domain)}/tags?${query}`;
  };
  return {
    first: url("first"),
    last: url("last"),
    next: url("next", items[items.length - 1]?.tag ?? boundary ?? ""),
    previous: url("prev", items[0]?.tag ?? boundary ?? ""),
  };
}

async function oneTag(c: Context<ApiEnv>) {
  const domain = await requireDomain(c);
  const record = await getTag(c.env, domain, tagParam(c));
  if (!record) throw notFound("tag not found");
  return c.json(legacyTagJson(record));
}

async function updateTag(c: Context<ApiEnv>) {
  const domain = await requireDomain(c);
  const tag = tagParam(c);
  const description = c.req.query("description") ?? field(await readFields(c), "description");
  if (description === undefined) throw badRequest("description is required");
  if (!(await describeTag(c.env, domain, tag, description))) throw notFound("tag not found");
  return c.json({ message: "Tag updated" });
}

async function removeTag(c: Context<ApiEnv>) {
  const domain = await requireDomain(c);
  if (!(await deleteTag(c.env, domain, tagParam(c)))) throw notFound("tag not found");
  return c.json({ message: "Tag deleted" });
}

export const tagsApi = new Hono<ApiEnv>()
  .get("/v3/:domain/tags", async (c) => {
    const domain = await requireDomain(c);
    const limit = intQuery(c, "limit", { min: 1, max: MAX_TAGS_LIMIT, fallback: DEFAULT_TAGS_LIMIT });
    const page = PAGES.get(c.req.query("page") || "first");
    if (!page) throw badRequest("page must be first, last, next or prev");
    const boundary = c.req.query("tag")?.toLowerCase();
    const prefix = c.req.query("prefix")?.toLowerCase() || undefined;
    const items = await listTags(c.env, domain, { page, limit, boundary, prefix });
    return c.json({ items: items.map(legacyTagJson), paging: pagingFor(c, domain, limit, items, boundary, prefix) });
  })
  .get("/v3/:domain/tags/:tag", oneTag)
  .get("/v3/:domain/tag", oneTag)
  .put("/v3/:domain/tags/:tag", updateTag)
  .put("/v3/:domain/tag", updateTag)
  .delete("/v3/:domain/tags/:tag", removeTag)
  .delete("/v3/:domain/tag", removeTag)
  .get("/v3/domains/:domain/limits/tag", async (c) => {
    const domain = await requireDomain(c);
    return c.json({ id: domain, limit: MAX_TAGS_PER_DOMAIN, count: await countTags(c.env, domain) });
  });
