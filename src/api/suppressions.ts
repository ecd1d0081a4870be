// Suppressions API, Mailgun's (mailgun-api.md §5): /v3/{domain}/{bounces|unsubscribes|complaints|
// whitelists}, served from the domain's DomainState Durable Object. Bindings: DB (does the domain
// exist), DOMAIN_STATE (the lists).
import { type Context, Hono } from "hono";
import { getDomain } from "../db/domains";
import { MAX_SUPPRESSION_BATCH } from "../domain/suppression-limits";
import { parseSuppressionListQuery, type SuppressionKind, suppressionPaging } from "../domain/suppression-list";
import type { ApiEnv } from "./context";
import { acceptedByState, badRequest, notFound } from "./errors";
import { readFields } from "./fields";
import { addressKey, checkTag, RECORD_PARSERS, readAddBody, storeSuppressions, suppressionJson } from "./suppression-input";
import { importSuppressionsCsv } from "./suppressions-csv";

/** Only the four list names match, so /v3/{domain}/events and /messages keep their own routes. */
const LIST = "/v3/:domain/:kind{(?:bounces|unsubscribes|complaints|whitelists)}";

/** Mailgun's own table names in its messages ("unsubscribers", "allowlist"). */
const NOT_FOUND: Record<SuppressionKind, string> = {
  bounces: "Address not found in bounces table",
  unsubscribes: "Address not found in unsubscribers table",
  complaints: "No spam complaints found for this address",
  whitelists: "Address/Domain not found in allowlist table",
};
const REMOVED: Record<SuppressionKind, string> = {
  bounces: "Bounced address has been removed",
  unsubscribes: "Unsubscribe event has been removed",
  complaints: "Spam complaint has been removed",
  whitelists: "Allowlist address/domain has been removed",
};
const CLEARED: Record<SuppressionKind, string> = {
  bounces: "Bounced addresses for this domain have been removed",
  unsubscribes: "Unsubscribe addresses for this domain have been removed",
  complaints: "Complaint addresses for this domain have been removed",
  whitelists: "Allowlist addresses/domains for this domain have been removed",
};
const manyAdded = (kind: SuppressionKind, n: number) =>
  kind === "complaints" ? `${n} complaint addresses have been added to the complaints table` : `${n} addresses have been added to the ${kind} table`;

/** The domain (404 when unknown), its list kind and its DomainState stub. */
async function target(c: Context<ApiEnv>) {
  const domain = c.req.param("domain")!.toLowerCase();
  if (!(await getDomain(c.env.DB, domain))) throw notFound("Domain not found");
  const kind = c.req.param("kind") as SuppressionKind;
  return { domain, kind, state: c.env.DOMAIN_STATE.get(c.env.DOMAIN_STATE.idFromName(domain)) };
}

/** An unsubscribe DELETE may name one tag, in the query or a form body. */
async function tagToRemove(c: Context<ApiEnv>): Promise<string | undefined> {
  const fromQuery = c.req.query("tag");
  const tag = fromQuery !== undefined ? fromQuery.trim() : c.req.header("content-type") ? (await readFields(c)).get("tag")?.[0]?.trim() : undefined;
  return tag ? checkTag(tag) : undefined;
}

export const suppressionsApi = new Hono<ApiEnv>()
  .get(LIST, async (c) => {
    const { domain, kind, state } = await target(c);
    const query = parseSuppressionListQuery(new URL(c.req.url).searchParams);
    if (typeof query === "string") throw badRequest(query);
    const rows = acceptedByState(await state.listSuppressions(kind, query));
    const base = `${new URL(c.req.url).origin}/v3/${encodeURIComponent(domain)}/${kind}`;
    return c.json({
      items: rows.map((row) => suppressionJson(kind, row)),
      paging: suppressionPaging(
        base,
        query,
        rows.map((row) => row.key),
      ),
    });
  })
  .get(`${LIST}/:address`, async (c) => {
    const { kind, state } = await target(c);
    const row = acceptedByState(await state.getSuppression(kind, addressKey(c.req.param("address"))));
    if (!row) throw notFound(NOT_FOUND[kind]);
    return c.json(suppressionJson(kind, row));
  })
  .post(LIST, async (c) => {
    const { kind, state } = await target(c);
    const body = await readAddBody(c);
    const now = Date.now();
    if ("many" in body) {
      if (kind === "whitelists") throw badRequest("Allowlist entries are added one per request, as form fields");
      if (body.many.length > MAX_SUPPRESSION_BATCH) throw badRequest(`Batch size should be less than ${MAX_SUPPRESSION_BATCH}`);
      const records = body.many.map((fields, i) => {
        try {
          return RECORD_PARSERS[kind](fields, now);
        } catch (error) {
          throw error instanceof Error ? badRequest(`record ${i}: ${error.message}`) : error;
        }
      });
      await storeSuppressions(state, kind, records);
      return c.json({ message: manyAdded(kind, records.length) });
    }
    const record = RECORD_PARSERS[kind](body.one, now);
    await storeSuppressions(state, kind, [record]);
    if ("type" in record) return c.json({ message: "Address/Domain has been added to the allowlists table", type: record.type, value: record.value });
    return c.json({ message: `Address has been added to the ${kind} table`, address: record.address });
  })
  .post(`${LIST}/import`, async (c) => {
    const { kind, state } = await target(c);
    return c.json(await importSuppressionsCsv(c, kind, (records) => storeSuppressions(state, kind, records)), 202);
  })
  .delete(`${LIST}/:address`, async (c) => {
    const { kind, state } = await target(c);
    const key = addressKey(c.req.param("address"));
    const tag = kind === "unsubscribes" ? await tagToRemove(c) : undefined;
    if (!key || !acceptedByState(await state.deleteSuppression(kind, key, tag))) throw notFound(NOT_FOUND[kind]);
    return c.json(kind === "whitelists" ? { message: REMOVED[kind], value: key } : { message: REMOVED[kind], address: key });
  })
  .delete(LIST, async (c) => {
    const { kind, state } = await target(c);
    acceptedByState(await state.clearSuppressions(kind));
    return c.json({ message: CLEARED[kind] });
  });
