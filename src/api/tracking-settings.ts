// Tracking settings API: GET /v3/domains/{d}/tracking and PUT .../tracking/open|click|unsubscribe,
// with the yes/no/true/false (and htmlonly) values mailgun.js sends.
import { Hono } from "hono";
import { type DomainChanges, getDomain, updateDomain } from "../db/domains";
import { parseClickMode } from "../domain/tracking-settings";
import type { ApiEnv } from "./context";
import { trackingJson } from "./domain-shapes";
import { badRequest, notFound } from "./errors";
import { type Fields, field, readFields, yesNoField } from "./fields";

const UPDATED = "Domain tracking settings have been updated";
const MAX_FOOTER_LENGTH = 10_000;

function footer(fields: Fields, name: string): string | undefined {
  const value = field(fields, name);
  if (value !== undefined && value.length > MAX_FOOTER_LENGTH) throw badRequest(`${name} is longer than ${MAX_FOOTER_LENGTH} characters`);
  return value;
}

async function update(db: D1Database, name: string, changes: DomainChanges) {
  const domain = await updateDomain(db, name.toLowerCase(), changes);
  if (!domain) throw notFound("Domain not found");
  return trackingJson(domain);
}

export const trackingApi = new Hono<ApiEnv>()
  .get("/v3/domains/:name/tracking", async (c) => {
    const domain = await getDomain(c.env.DB, c.req.param("name").toLowerCase());
    if (!domain) throw notFound("Domain not found");
    return c.json({ tracking: trackingJson(domain) });
  })
  .put("/v3/domains/:name/tracking/open", async (c) => {
    const fields = await readFields(c);
    const tracking = await update(c.env.DB, c.req.param("name"), {
      openActive: yesNoField(fields, "active"),
      openPlaceAtTop: yesNoField(fields, "place_at_the_top"),
    });
    return c.json({ message: UPDATED, open: tracking.open });
  })
  .put("/v3/domains/:name/tracking/click", async (c) => {
    const value = field(await readFields(c), "active");
    const mode = value === undefined ? undefined : parseClickMode(value);
    if (mode === null) throw badRequest("active must be yes, no, true, false or htmlonly");
    const tracking = await update(c.env.DB, c.req.param("name"), { clickActive: mode });
    return c.json({ message: UPDATED, click: tracking.click });
  })
  .put("/v3/domains/:name/tracking/unsubscribe", async (c) => {
    const fields = await readFields(c);
    const tracking = await update(c.env.DB, c.req.param("name"), {
      unsubscribeActive: yesNoField(fields, "active"),
      unsubscribeHtmlFooter: footer(fields, "html_footer"),
      unsubscribeTextFooter: footer(fields, "text_footer"),
    });
    return c.json({ message: UPDATED, unsubscribe: tracking.unsubscribe });
  });
