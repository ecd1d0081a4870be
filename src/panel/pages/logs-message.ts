// One message from Logs: its timeline (every event of one Message-ID, oldest first, from the
// Events API) and the stored message itself (shown as text: its HTML as source, never rendered;
// developer keys and up, PANEL_ACCESS in ../index.ts).
import { Hono } from "hono";
import { html } from "hono/html";
import { callApi, mustCallApi } from "../api-client";
import type { PanelEnv } from "../context";
import { type LoggedEvent, summarizeEvent } from "../event-summary";
import { canChange, emptyState, noDomainsPage, panelHref, renderPage } from "../layout";
import { chooseDomain, enc, when } from "../shared";
import { eventBadges } from "./logs-rows";

/** The most events a timeline shows (the Events API's page size): a message's life is far shorter. */
export const TIMELINE_MAX_EVENTS = 300;

interface StoredMessage {
  From: string;
  To: string;
  Subject: string;
  "message-headers": Array<[string, string]>;
  "body-plain": string;
  "body-html": string;
  attachments: Array<{ name: string; "content-type": string; size: number }>;
}

export const messagePages = new Hono<PanelEnv>()
  .get("/timeline", async (c) => {
    const { domains, domain } = await chooseDomain(c);
    if (!domain) return noDomainsPage(c, "Logs", "logs");
    const messageId = (c.req.query("message_id") ?? "").trim();
    const back = html`<p><a href="${panelHref("logs", domain)}">← Logs</a></p>`;
    if (!messageId)
      return renderPage(
        c,
        {
          title: "Message timeline",
          section: "logs",
          domain,
          domains,
          body: html`${back}<p class="error" role="alert">Choose a message in Logs to see its timeline.</p>`,
        },
        400,
      );
    const query = new URLSearchParams({ "message-id": messageId, ascending: "yes", limit: String(TIMELINE_MAX_EVENTS) });
    const { items } = await mustCallApi<{ items: LoggedEvent[] }>(c, "GET", `/v3/${enc(domain)}/events?${query}`);
    const subject = items.find((e) => e.message?.headers?.subject)?.message?.headers?.subject;
    const stored = canChange(c) ? items.find((e) => e.storage)?.storage : undefined;
    const recipients = new Set(items.map((e) => e.recipient));
    return renderPage(c, {
      title: "Message timeline",
      section: "logs",
      domain,
      domains,
      body: html`${back}
<p><span class="muted">Message-ID</span> <code id="timeline-message-id">${messageId}</code>${subject ? html`<br><span class="muted">Subject</span> ${subject}` : ""}
${items.length ? html`<br><span class="muted">${items.length} event${items.length === 1 ? "" : "s"} for ${recipients.size} recipient${recipients.size === 1 ? "" : "s"}, oldest first</span>` : ""}</p>
${stored ? html`<p><a href="${panelHref("logs/message", domain, { key: stored.key })}">The stored message</a></p>` : ""}
${
  items.length === 0
    ? emptyState("No events of this message are kept (events are kept for the domain's retention days).")
    : html`<ol class="timeline" id="timeline">${items.map(
        (
          e,
        ) => html`<li data-event="${e.event}"><time datetime="${new Date(e.timestamp * 1000).toISOString()}">${when(c, e.timestamp)}</time> ${eventBadges(e)} <span>${e.recipient}</span>
<div class="summary">${summarizeEvent(e)}</div></li>`,
      )}</ol>`
}`,
    });
  })
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
  });
