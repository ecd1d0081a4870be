// Domains: list, create and delete sending domains; per domain the DNS records to set (the
// tracking CNAME first, with a button that checks it now), the tracking switches (opens, clicks with html-only, unsubscribes with
// their footers), the web scheme and the event retention. Through the Domains and Tracking APIs.
import { type Context, Hono } from "hono";
import { html, raw } from "hono/html";
import { callApi, mustCallApi } from "../api-client";
import type { PanelEnv } from "../context";
import { canChange, csrfField, emptyState, renderPage } from "../layout";
import { backTo, enc, formText, when } from "../shared";
import { sendTestForm, sendTestMessage } from "./domain-send";

interface DomainItem {
  name: string;
  created_at: string;
  web_scheme: string;
  web_prefix: string;
  tracking_host?: string;
  retention_days?: number;
}
interface DnsRecord {
  record_type: string;
  name: string;
  value: string;
  valid: string;
  cached?: string[];
}
interface Tracking {
  open: { active: boolean; place_at_the_top?: boolean };
  click: { active: boolean | "htmlonly" };
  unsubscribe: { active: boolean; html_footer: string; text_footer: string };
}

const checked = (on: boolean) => (on ? raw(" checked") : "");
/**
 * Domains per page of the list, each with its DNS state: one in-process API call per domain, about
 * three D1 queries each, so a page stays far below D1's 1,000 queries per Worker invocation.
 */
const DOMAINS_PAGE_SIZE = 50;
/** The API's own bound on skip. */
const MAX_DOMAINS_SKIP = 10_000;

/** The tracking CNAME's state as a badge: verified, wrong, or not looked at yet. */
function cnameBadge(record: DnsRecord | undefined) {
  if (record?.valid === "valid") return html`<span class="badge good">verified</span>`;
  if (record?.valid === "invalid") return html`<span class="badge bad">${record.cached?.length ? "points elsewhere" : "not found"}</span>`;
  return html`<span class="badge">not checked yet</span>`;
}

/**
 * What the page says when Check DNS could not look: the API's reason ("the DNS resolver answered
 * SERVFAIL") without the runtime's own error that may follow it in parentheses ("(TypeError: fetch
 * failed)"), which is no use to a person, and what happens next.
 */
export function dnsCheckFailure(apiMessage: string): string {
  if (apiMessage.includes("DNS checks are off"))
    return "DNS checks are switched off on this deployment (no DNS resolver is set), so the records were not looked up.";
  const reason = apiMessage
    .replace(/^The DNS records could not be checked:\s*/, "")
    .replace(/\s*\(.*\)\s*$/s, "")
    .replace(/\.$/, "");
  return `The DNS records could not be checked just now: ${reason || "the DNS resolver did not answer"}. Tidings tries again by itself; the records below are as last checked.`;
}
const detailHref = (name: string) => `/app/domains/${enc(name)}`;

export const domainsPages = new Hono<PanelEnv>()
  .get("/", async (c) => {
    const skip = Math.max(0, Math.min(Number.parseInt(c.req.query("skip") ?? "0", 10) || 0, MAX_DOMAINS_SKIP));
    const listed = await mustCallApi<{ total_count: number; items: DomainItem[] }>(c, "GET", `/v4/domains?limit=${DOMAINS_PAGE_SIZE}&skip=${skip}`);
    const { items } = listed;
    // Each domain's tracking CNAME as last checked (by the cron or Check DNS), one in-process call each.
    const states = await Promise.all(items.map((d) => callApi<{ sending_dns_records: DnsRecord[] }>(c, "GET", `/v4/domains/${enc(d.name)}`)));
    const more = skip + items.length < listed.total_count;
    return renderPage(c, {
      title: "Domains",
      section: "domains",
      domains: items.map((d) => d.name),
      body: html`${
        items.length === 0
          ? emptyState("No domains yet — add the domain you send mail from, then point its tracking CNAME at Tidings.")
          : html`<div class="table-wrap"><table id="domains"><thead><tr><th scope="col">Domain</th><th scope="col">Tracking CNAME</th><th scope="col">Tracking host</th><th scope="col" class="hide-narrow">Created</th></tr></thead>
<tbody>${items.map((d, i) => html`<tr><td><a href="${detailHref(d.name)}">${d.name}</a></td><td class="state">${cnameBadge(states[i]!.ok ? states[i]!.body.sending_dns_records[0] : undefined)}</td><td>${d.web_scheme}://${d.tracking_host ?? `${d.web_prefix}.${d.name}`}</td><td class="hide-narrow">${when(c, d.created_at)}</td></tr>`)}</tbody></table></div>
${
  skip > 0 || more
    ? html`<nav class="pager" aria-label="Pages">${skip > 0 ? html`<a href="/app/domains?skip=${Math.max(0, skip - DOMAINS_PAGE_SIZE)}">← Previous</a>` : ""}${more ? html`<a href="/app/domains?skip=${skip + DOMAINS_PAGE_SIZE}">Next →</a>` : ""}</nav>`
    : ""
}`
      }
${
  canChange(c)
    ? html`<h2>Add a domain</h2>
<form method="post" action="/app/domains" class="row">${csrfField(c)}
  <label>Domain name <input type="text" name="name" required placeholder="mg.example.com"></label>
  <label>Tracking prefix <input type="text" name="web_prefix" value="email" required></label>
  <button type="submit">Add domain</button>
</form>`
    : ""
}`,
    });
  })
  .post("/", async (c) => {
    const body = new FormData();
    const name = (await formText(c, "name")).toLowerCase();
    body.append("name", name);
    const prefix = await formText(c, "web_prefix");
    if (prefix) body.append("web_prefix", prefix);
    const result = await callApi(c, "POST", "/v4/domains", body);
    if (!result.ok) return backTo(c, "/app/domains", { error: result.message });
    return backTo(c, detailHref(name), { notice: `Domain ${name} added. Set its DNS records below.` });
  })
  .get("/:name", async (c) => {
    const name = c.req.param("name");
    const [detail, tracking] = await Promise.all([
      mustCallApi<{ domain: DomainItem; sending_dns_records: DnsRecord[] }>(c, "GET", `/v4/domains/${enc(name)}`),
      mustCallApi<{ tracking: Tracking }>(c, "GET", `/v3/domains/${enc(name)}/tracking`),
    ]);
    const t = tracking.tracking;
    const d = detail.domain;
    return renderPage(c, {
      title: name,
      section: "domains",
      domain: name,
      body: html`<p><a href="/app/logs?domain=${enc(name)}">Logs</a> · <a href="/app/analytics?domain=${enc(name)}">Analytics</a> · <a href="/app/suppressions?domain=${enc(name)}">Suppressions</a>${canChange(c) ? html` · <a href="/app/webhooks?domain=${enc(name)}">Webhooks</a>` : ""}</p>
<h2>DNS records</h2>
<p class="muted">Set these at your DNS provider. The tracking CNAME makes open, click and unsubscribe links work on your own host.</p>
<div class="table-wrap"><table id="dns"><thead><tr><th scope="col">Type</th><th scope="col">Name</th><th scope="col">Value</th><th scope="col">State</th></tr></thead>
<tbody>${detail.sending_dns_records.map(
        (r) =>
          html`<tr><td>${r.record_type}</td><td><code>${r.name}</code></td><td><code>${r.value}</code></td><td>${r.valid}${
            r.valid === "invalid" ? (r.cached?.length ? html` (points at <code>${r.cached.join(", ")}</code>)` : " (no record found)") : ""
          }</td></tr>`,
      )}</tbody></table></div>
${canChange(c) ? changeForms(c, name, t, d) : readOnlySettings(t, d)}
${sendTestForm(c, name)}
${canChange(c) ? deleteForm(c, name) : ""}`,
    });
  })
  .post("/:name/tracking", async (c) => {
    const name = c.req.param("name");
    const base = `/v3/domains/${enc(name)}/tracking`;
    const form = (fields: Record<string, string>) => new URLSearchParams(fields);
    const yes = async (field: string) => ((await formText(c, field)) === "yes" ? "yes" : "no");
    const calls = [
      callApi(c, "PUT", `${base}/open`, form({ active: await yes("open"), place_at_the_top: await yes("open_top") })),
      callApi(c, "PUT", `${base}/click`, form({ active: (await formText(c, "click")) || "no" })),
      callApi(
        c,
        "PUT",
        `${base}/unsubscribe`,
        form({
          active: await yes("unsubscribe"),
          html_footer: await formText(c, "html_footer", { trim: false }),
          text_footer: await formText(c, "text_footer", { trim: false }),
        }),
      ),
    ];
    const failed = (await Promise.all(calls)).find((r) => !r.ok);
    return backTo(c, detailHref(name), failed ? { error: failed.message } : { notice: "Tracking settings saved." });
  })
  .post("/:name/settings", async (c) => {
    const name = c.req.param("name");
    const body = new FormData();
    body.append("web_scheme", await formText(c, "web_scheme"));
    body.append("retention_days", await formText(c, "retention_days"));
    const result = await callApi(c, "PUT", `/v4/domains/${enc(name)}`, body);
    return backTo(c, detailHref(name), result.ok ? { notice: "Domain settings saved." } : { error: result.message });
  })
  .post("/:name/verify", async (c) => {
    const name = c.req.param("name");
    const result = await callApi<{ message: string; sending_dns_records: DnsRecord[] }>(c, "PUT", `/v4/domains/${enc(name)}/verify`);
    if (!result.ok) return backTo(c, detailHref(name), { error: result.message });
    const cname = result.body.sending_dns_records[0];
    const failed = result.body.message.startsWith("The DNS records could not be checked");
    return backTo(
      c,
      detailHref(name),
      failed ? { error: dnsCheckFailure(result.body.message) } : { notice: `DNS checked: the tracking CNAME is ${cname?.valid ?? "unknown"}.` },
    );
  })
  .post("/:name/send", sendTestMessage)
  .post("/:name/delete", async (c) => {
    const name = c.req.param("name");
    if ((await formText(c, "confirm")) !== "yes") return backTo(c, detailHref(name), { error: "Tick the confirmation box to delete the domain." });
    const result = await callApi(c, "DELETE", `/v3/domains/${enc(name)}`);
    return backTo(c, "/app/domains", result.ok ? { notice: `Domain ${name} deleted.` } : { error: result.message });
  });

/** The forms that change a domain: for developer and admin keys only. */
function changeForms(c: Context<PanelEnv>, name: string, t: Tracking, d: DomainItem) {
  const hidden = html`${csrfField(c)}<input type="hidden" name="domain" value="${name}">`;
  return html`<form method="post" action="/app/domains/${enc(name)}/verify" class="row">${hidden}<button type="submit">Check DNS</button></form>
<h2>Tracking</h2>
<form method="post" action="/app/domains/${enc(name)}/tracking" class="stack">${hidden}
<fieldset><legend>Opens</legend>
  <label><input type="checkbox" name="open" value="yes"${checked(t.open.active)}> Track opens (a pixel at the end of the HTML)</label>
  <label><input type="checkbox" name="open_top" value="yes"${checked(!!t.open.place_at_the_top)}> Put the pixel at the top instead</label>
</fieldset>
<fieldset><legend>Clicks</legend>
  <label><input type="radio" name="click" value="no"${checked(t.click.active === false)}> Off</label>
  <label><input type="radio" name="click" value="yes"${checked(t.click.active === true)}> HTML and text links</label>
  <label><input type="radio" name="click" value="htmlonly"${checked(t.click.active === "htmlonly")}> HTML links only</label>
</fieldset>
<fieldset><legend>Unsubscribes</legend>
  <label><input type="checkbox" name="unsubscribe" value="yes"${checked(t.unsubscribe.active)}> Add unsubscribe links and footers</label>
  <label>HTML footer <textarea name="html_footer" rows="3">${t.unsubscribe.html_footer}</textarea></label>
  <label>Text footer <textarea name="text_footer" rows="3">${t.unsubscribe.text_footer}</textarea></label>
</fieldset>
<div><button type="submit">Save tracking</button></div>
</form>
<h2>Links and retention</h2>
<form method="post" action="/app/domains/${enc(name)}/settings" class="row">${hidden}
  <label>Link scheme <select name="web_scheme"><option${d.web_scheme === "http" ? raw(" selected") : ""}>http</option><option${d.web_scheme === "https" ? raw(" selected") : ""}>https</option></select></label>
  <label>Keep events for (days, 2–30) <input type="number" name="retention_days" min="2" max="30" value="${d.retention_days ?? 30}" required></label>
  <button type="submit">Save</button>
</form>`;
}

function deleteForm(c: Context<PanelEnv>, name: string) {
  const hidden = html`${csrfField(c)}<input type="hidden" name="domain" value="${name}">`;
  return html`<h2>Delete this domain</h2>
<form method="post" action="/app/domains/${enc(name)}/delete" class="row">${hidden}
  <label class="row"><span><input type="checkbox" name="confirm" value="yes" required> Yes, delete ${name} and stop tracking its links</span></label>
  <button type="submit" class="danger">Delete domain</button>
</form>`;
}

const onOff = (on: boolean | "htmlonly") => (on === "htmlonly" ? "on, HTML links only" : on ? "on" : "off");

/** What a read-only (basic) key sees instead of the forms. */
function readOnlySettings(t: Tracking, d: DomainItem) {
  return html`<h2>Tracking</h2>
<ul id="tracking-settings"><li>Opens: ${onOff(t.open.active)}</li><li>Clicks: ${onOff(t.click.active)}</li><li>Unsubscribes: ${onOff(t.unsubscribe.active)}</li></ul>
<h2>Links and retention</h2>
<p>Links use ${d.web_scheme}; events are kept for ${d.retention_days ?? 30} days.</p>`;
}
