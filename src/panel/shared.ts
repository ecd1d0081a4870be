// What several panel pages share: the domain list and which domain a page shows, form fields,
// redirects with a notice or an error, and dates.
import type { Context } from "hono";
import { mustCallApi } from "./api-client";
import { panelBackPath } from "./back-path";
import type { PanelEnv } from "./context";
import { formatApiDate, UTC } from "./time";

export interface DomainChoice {
  domains: string[];
  /** The domain asked for in `?domain=`, else the first one; undefined when there are none. */
  domain: string | undefined;
}

export async function chooseDomain(c: Context<PanelEnv>): Promise<DomainChoice> {
  const listed = await mustCallApi<{ items: Array<{ name: string }> }>(c, "GET", "/v4/domains?limit=1000");
  const domains = listed.items.map((d) => d.name);
  const asked = c.req.query("domain")?.toLowerCase();
  return { domains, domain: asked && domains.includes(asked) ? asked : domains[0] };
}

/** A string field of the submitted form ("" when absent), trimmed unless asked not to. */
export async function formText(c: Context<PanelEnv>, name: string, { trim = true } = {}): Promise<string> {
  const value = (await c.req.formData()).get(name);
  if (typeof value !== "string") return "";
  return trim ? value.trim() : value;
}

export async function formAll(c: Context<PanelEnv>, name: string): Promise<string[]> {
  return (await c.req.formData()).getAll(name).flatMap((v) => (typeof v === "string" && v.trim() ? [v.trim()] : []));
}

/**
 * Post-redirect-get back to a panel page with a notice (or an error) banner. `href` is made by the
 * panel itself (or checked by panelBackPath); anything not under /app/ of this origin goes to /app/.
 */
export function backTo(c: Context<PanelEnv>, href: string, outcome: { notice?: string; error?: string }) {
  const url = new URL(panelBackPath(href, c.req.url) ?? "/app/", c.req.url);
  if (outcome.notice) url.searchParams.set("notice", outcome.notice);
  if (outcome.error) url.searchParams.set("error", outcome.error);
  return c.redirect(`${url.pathname}${url.search}`, 303);
}

/**
 * A date as the panel writes every date ("2026-11-26 09:14:03 UTC"), in the time zone chosen on
 * the Settings page: epoch seconds (events) or a date string of the API (RFC 1123, ISO 8601).
 */
export function when(c: Context<PanelEnv>, value: string | number | undefined | null): string {
  return formatApiDate(value, c.get("timeZone") ?? UTC);
}

export const enc = encodeURIComponent;
