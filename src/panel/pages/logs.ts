// Logs: a domain's events, newest first, searched with the Events API's own filters (recipient,
// message-id, subject, from, tag, event type, a time range or a preset such as the last 24 hours)
// and paged with its cursors; each row has a one-line summary, opens to the whole event JSON and
// links to its message's timeline and (for developer keys) the stored message. Bot opens and
// clicks are marked and can be hidden; a search exports as CSV (logs-export.ts).
import { Hono } from "hono";
import { html, raw } from "hono/html";
import { mustCallApi, PanelError } from "../api-client";
import type { PanelEnv } from "../context";
import type { LoggedEvent } from "../event-summary";
import { canChange, emptyState, noDomainsPage, panelHref, renderPage } from "../layout";
import { DATE_PRESETS, type DatePreset, EVENT_TYPES, LOGS_PAGE_SIZE, readLogsSearch, SearchError, TEXT_FILTERS } from "../logs-search";
import { chooseDomain, enc } from "../shared";
import { UTC } from "../time";
import { exportLogsCsv, LOGS_CSV_MAX_ROWS } from "./logs-export";
import { messagePages } from "./logs-message";
import { eventRow } from "./logs-rows";

function searchOf(c: Parameters<typeof canChange>[0]) {
  try {
    return readLogsSearch((name) => c.req.query(name), c.get("timeZone"), Date.now());
  } catch (error) {
    if (error instanceof SearchError) throw new PanelError(error.message);
    throw error;
  }
}

export const logsPages = new Hono<PanelEnv>()
  .route("/", messagePages)
  .get("/export.csv", async (c) => {
    const { domain } = await chooseDomain(c);
    if (!domain) throw new PanelError("There is no domain to export yet.");
    return exportLogsCsv(c, domain, searchOf(c));
  })
  .get("/", async (c) => {
    const { domains, domain } = await chooseDomain(c);
    if (!domain) return noDomainsPage(c, "Logs", "logs");
    const search = searchOf(c);
    const query = new URLSearchParams(search.query);
    query.set("limit", String(LOGS_PAGE_SIZE));
    const page = c.req.query("page");
    const path = page ? `/v3/${enc(domain)}/events/${enc(page)}` : `/v3/${enc(domain)}/events?${query}`;
    const result = await mustCallApi<{ items: LoggedEvent[]; paging: { next: string; previous: string } }>(c, "GET", path);
    const shown = search.hideBots ? result.items.filter((e) => !e["client-info"]?.bot) : result.items;
    const hidden = result.items.length - shown.length;
    const token = (url: string) => url.slice(url.lastIndexOf("/") + 1);
    const zone = c.get("timeZone");
    const zoneLabel = zone === UTC ? "UTC" : zone;
    const { kept } = search;
    const withRange = (range: DatePreset) => panelHref("logs", domain, { ...kept, begin: undefined, end: undefined, range });

    return renderPage(c, {
      title: "Logs",
      section: "logs",
      domain,
      domains,
      body: html`<form method="get" action="/app/logs" class="filters" role="search" aria-label="Search events">
  <input type="hidden" name="domain" value="${domain}">${search.range ? html`<input type="hidden" name="range" value="${search.range}">` : ""}
  ${TEXT_FILTERS.map(([name, label, type]) => html`<label>${label}<input type="${type === "email" ? "text" : type}" name="${name}" value="${kept[name] ?? ""}" ${type === "email" ? raw('inputmode="email"') : ""}></label>`)}
  <label>Event<select name="event"><option value="">any</option>${EVENT_TYPES.map((t) => html`<option${t === kept.event ? raw(" selected") : ""}>${t}</option>`)}</select></label>
  <label>From time (${zoneLabel})<input type="datetime-local" name="begin" value="${kept.begin ?? ""}"></label>
  <label>To time (${zoneLabel})<input type="datetime-local" name="end" value="${kept.end ?? ""}"></label>
  <label class="check"><input type="checkbox" name="hide_bots"${search.hideBots ? raw(" checked") : ""}> Hide bot opens and clicks</label>
  <div><button type="submit">Search</button> <a href="${panelHref("logs", domain)}">Clear</a></div>
</form>
<nav aria-label="Time range" class="presets"><ul class="legend">${(Object.keys(DATE_PRESETS) as DatePreset[]).map(
        (key) => html`<li><a href="${withRange(key)}"${key === search.range ? raw(' aria-current="true"') : ""}>${DATE_PRESETS[key][0]}</a></li>`,
      )}</ul></nav>
<p class="muted" id="result-count">${shown.length} event${shown.length === 1 ? "" : "s"} on this page${hidden ? `, ${hidden} bot hit${hidden === 1 ? "" : "s"} hidden` : ""}.
<a href="${panelHref("logs/export.csv", domain, kept)}" download>Export this search as CSV</a> <span>(at most ${LOGS_CSV_MAX_ROWS.toLocaleString("en")} rows, newest first)</span></p>
${
  shown.length === 0
    ? emptyState(search.narrowed || page ? "No events match this search." : "No events yet — send a message or open a tracked link.")
    : html`<div class="table-wrap"><table id="events">
  <caption class="muted">Newest first. Open a row for the whole event; Timeline shows every event of its message.</caption>
  <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Recipient</th><th scope="col">Summary</th><th scope="col" class="hide-narrow">Subject</th><th scope="col">Details</th></tr></thead>
  <tbody>${shown.map((e) => eventRow(c, e, domain, canChange(c)))}</tbody>
</table></div>`
}
${
  page || result.items.length === LOGS_PAGE_SIZE
    ? html`<nav class="pager" aria-label="Pages">
  ${page ? html`<a href="${panelHref("logs", domain, kept)}">Newest</a>` : ""}
  ${result.items.length === LOGS_PAGE_SIZE ? html`<a rel="next" href="${panelHref("logs", domain, { ...kept, page: token(result.paging.next) })}">Older →</a>` : ""}
</nav>`
    : ""
}`,
    });
  });
