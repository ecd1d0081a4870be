// Logs: a domain's events, newest first, searched with the Events API's own filters (recipient,
// message-id, subject, from, tag, event type, time range) and paged with its cursors; each row
// opens to the whole event JSON, and a sent message's events link to the stored message (shown as
// text: its HTML as source, never rendered). Bot opens and clicks are marked and can be hidden.
import { Hono } from "hono";
import { html, raw } from "hono/html";
import { callApi, mustCallApi } from "../api-client";
import type { PanelEnv } from "../context";
import { canChange, emptyState, panelHref, renderPage, noDomainsPage } from "../layout";
import { chooseDomain, enc, formatTime } from "../shared";

const PAGE_SIZE = 50;
const EVENT_TYPES = ["accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained", "rejected"];
const TEXT_FILTERS = [
  ["recipient", "Recipient", "email"],
  ["message-id", "Message-ID", "text"],
  ["subject", "Subject", "text"],
  ["from", "From", "text"],
  ["tags", "Tag", "text"],
] as const;

interface LoggedEvent {
  id: string;
  event: string;
  timestamp: number;
  recipient: string;
  severity?: string;
  reason?: string;
  url?: string;
  tags?: string[];
  "client-info"?: { bot?: string; "client-name"?: string; "device-type"?: string };
  message?: { headers?: { subject?: string; from?: string } };
  storage?: { key: string; url: string };
}

interface StoredMessage {
  From: string;
  To: string;
  Subject: string;
  "message-headers": Array<[string, string]>;
  "body-plain": string;
  "body-html": string;
  attachments: Array<{ name: string; "content-type": string; size: number }>;
}

/** datetime-local (read as UTC) to epoch seconds for the API; "" stays "". */
function epochOf(value: string | undefined): string {
  if (!value) return "";
  const ms = Date.parse(`${value}${value.length === 16 ? ":00" : ""}Z`);
  return Number.isNaN(ms) ? value : String(ms / 1000);
}

export const logsPages = new Hono<PanelEnv>()
  .get("/message", async (c) => {
    const { domains, domain } = await chooseDomain(c);
    const key = c.req.query("key") ?? "";
    if (!domain) return noDomainsPage(c, "Logs", "logs");
    const back = html`<p><a href="${panelHref("logs", domain)}">← Logs</a></p>`;
    const result = await callApi<StoredMessage>(c, "GET", `/v3/domains/${enc(domain)}/messages/${enc(key)}`);
    if (!result.ok) {
      const gone = result.status === 404 ? "This message is no longer stored: messages are kept for 3 days after they are sent." : result.message;
      return renderPage(c, { title: "Stored message", section: "logs", domain, domains, body: html`${back}<p class="error" role="alert">${gone}</p>` }, 404);
    }
    const m = result.body;
    return renderPage(c, {
      title: m.Subject || "(no subject)",
      section: "logs",
      domain,
      domains,
      body: html`${back}
<p class="muted">The message as it was submitted, before tracking and per-recipient substitution.</p>
<div class="table-wrap"><table id="message-headers"><tbody>${m["message-headers"].map(([name, value]) => html`<tr><th scope="row">${name}</th><td>${value}</td></tr>`)}</tbody></table></div>
${m["body-plain"] ? html`<h2>Text</h2><pre id="message-text" class="wrap">${m["body-plain"]}</pre>` : ""}
${m["body-html"] ? html`<h2>HTML</h2><details><summary>Source</summary><pre id="message-html" class="wrap">${m["body-html"]}</pre></details>` : ""}
${m.attachments.length > 0 ? html`<h2>Attachments</h2><ul>${m.attachments.map((a) => html`<li>${a.name} (${a["content-type"]}, ${a.size} bytes)</li>`)}</ul>` : ""}`,
    });
  })
  .get("/", async (c) => {
  const { domains, domain } = await chooseDomain(c);
  const hideBots = c.req.query("hide_bots") === "on";
  if (!domain) {
    return noDomainsPage(c, "Logs", "logs");
  }
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [name] of TEXT_FILTERS) {
    const value = c.req.query(name)?.trim();
    if (value) query.set(name, value);
  }
  const event = c.req.query("event");
  if (event) query.set("event", event);
  const begin = epochOf(c.req.query("begin"));
  const end = epochOf(c.req.query("end"));
  // Newest first: Mailgun reads descending when begin is after end.
  if (begin && end) {
    query.set("begin", end);
    query.set("end", begin);
  } else if (begin) {
    query.set("end", begin);
  } else if (end) {
    query.set("begin", end);
    query.set("ascending", "no");
  }
  const page = c.req.query("page");
  const path = page ? `/v3/${enc(domain)}/events/${enc(page)}` : `/v3/${enc(domain)}/events?${query}`;
  const started = Date.now();
  const result = await mustCallApi<{ items: LoggedEvent[]; paging: { next: string; previous: string } }>(c, "GET", path);
  const elapsed = Date.now() - started;
  const shown = hideBots ? result.items.filter((e) => !e["client-info"]?.bot) : result.items;
  const hidden = result.items.length - shown.length;
  const token = (url: string) => url.slice(url.lastIndexOf("/") + 1);
  const keep = { hide_bots: hideBots ? "on" : undefined };
  const searching = [...TEXT_FILTERS.map(([n]) => n), "event", "begin", "end"].some((n) => c.req.query(n));

  return renderPage(c, {
    title: "Logs",
    section: "logs",
    domain,
    domains,
    body: html`<form method="get" action="/app/logs" class="filters" role="search" aria-label="Search events">
  <input type="hidden" name="domain" value="${domain}">
  ${TEXT_FILTERS.map(([name, label, type]) => html`<label>${label}<input type="${type === "email" ? "text" : type}" name="${name}" value="${c.req.query(name) ?? ""}" ${type === "email" ? raw('inputmode="email"') : ""}></label>`)}
  <label>Event<select name="event"><option value="">any</option>${EVENT_TYPES.map((t) => html`<option${t === event ? raw(" selected") : ""}>${t}</option>`)}</select></label>
  <label>From time (UTC)<input type="datetime-local" name="begin" value="${c.req.query("begin") ?? ""}"></label>
  <label>To time (UTC)<input type="datetime-local" name="end" value="${c.req.query("end") ?? ""}"></label>
  <label class="check"><input type="checkbox" name="hide_bots"${hideBots ? raw(" checked") : ""}> Hide bot opens and clicks</label>
  <div><button type="submit">Search</button> <a href="${panelHref("logs", domain)}">Clear</a></div>
</form>
<p class="muted" id="result-count">${shown.length} event${shown.length === 1 ? "" : "s"} on this page${hidden ? `, ${hidden} bot hit${hidden === 1 ? "" : "s"} hidden` : ""} · ${elapsed} ms</p>
${shown.length === 0
  ? emptyState(searching || page ? "No events match this search." : "No events yet — send a message or open a tracked link.")
  : html`<div class="table-wrap"><table id="events">
  <caption class="muted">Newest first. Open a row for the whole event.</caption>
  <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Recipient</th><th scope="col" class="hide-narrow">Subject</th><th scope="col">Details</th></tr></thead>
  <tbody>${shown.map((e) => eventRow(e, domain, canChange(c)))}</tbody>
</table></div>`}
<nav class="pager" aria-label="Pages">
  ${page ? html`<a href="${panelHref("logs", domain, keep)}">Newest</a>` : ""}
  ${result.items.length === PAGE_SIZE ? html`<a rel="next" href="${panelHref("logs", domain, { ...keep, page: token(result.paging.next) })}">Older →</a>` : ""}
</nav>`,
  });
});

/** One event; `withMessage`: link its stored message (not for read-only keys: it is the whole mail). */
function eventRow(e: LoggedEvent, domain: string, withMessage: boolean) {
  const bot = e["client-info"]?.bot;
  const kind = e.event === "failed" ? `failed (${e.severity ?? "?"})` : e.event;
  const tone = e.event === "failed" || e.event === "complained" || e.event === "rejected" ? "bad" : e.event === "delivered" ? "good" : "";
  return html`<tr data-event="${e.event}"${bot ? raw(' data-bot="yes"') : ""}>
  <td><time datetime="${new Date(e.timestamp * 1000).toISOString()}">${formatTime(e.timestamp)}</time></td>
  <td><span class="badge ${tone}">${kind}</span>${bot ? html` <span class="badge bot" title="Classified as a bot (${bot})">bot: ${bot}</span>` : ""}</td>
  <td>${e.recipient}</td>
  <td class="hide-narrow">${e.message?.headers?.subject ?? ""}</td>
  <td><details><summary>JSON</summary><pre>${JSON.stringify(e, null, 2)}</pre></details>${
    e.storage && withMessage ? html` <a href="${panelHref("logs/message", domain, { key: e.storage.key })}">Message</a>` : ""
  }</td>
</tr>`;
}
