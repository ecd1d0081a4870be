// How Logs draws an event: its badges (type, severity, bot) and its table row with the one-line
// summary, the whole JSON on request, and links to the message's timeline and stored copy.
import type { Context } from "hono";
import { html, raw } from "hono/html";
import type { PanelEnv } from "../context";
import { type LoggedEvent, summarizeEvent } from "../event-summary";
import { panelHref } from "../layout";
import { when } from "../shared";

export function eventBadges(e: LoggedEvent) {
  const bot = e["client-info"]?.bot;
  const kind = e.event === "failed" ? `failed (${e.severity ?? "?"})` : e.event;
  const tone = e.event === "failed" || e.event === "complained" || e.event === "rejected" ? "bad" : e.event === "delivered" ? "good" : "";
  return html`<span class="badge ${tone}">${kind}</span>${bot ? html` <span class="badge bot" title="Classified as a bot (${bot})">bot: ${bot}</span>` : ""}`;
}

/** One event; `withMessage`: link its stored message (not for read-only keys: it is the whole mail). */
export function eventRow(c: Context<PanelEnv>, e: LoggedEvent, domain: string, withMessage: boolean) {
  const messageId = e.message?.headers?.["message-id"];
  return html`<tr data-event="${e.event}"${e["client-info"]?.bot ? raw(' data-bot="yes"') : ""}>
  <td><time datetime="${new Date(e.timestamp * 1000).toISOString()}">${when(c, e.timestamp)}</time></td>
  <td>${eventBadges(e)}</td>
  <td>${e.recipient}</td>
  <td class="summary">${summarizeEvent(e)}</td>
  <td class="hide-narrow">${e.message?.headers?.subject ?? ""}</td>
  <td><details><summary>JSON</summary><pre>${JSON.stringify(e, null, 2)}</pre></details>${
    messageId ? html` <a href="${panelHref("logs/timeline", domain, { message_id: messageId })}">Timeline</a>` : ""
  }${e.storage && withMessage ? html` <a href="${panelHref("logs/message", domain, { key: e.storage.key })}">Message</a>` : ""}</td>
</tr>`;
}
