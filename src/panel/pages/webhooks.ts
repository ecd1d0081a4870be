// Webhooks: up to 3 URLs per event type, a "send test" that posts a signed sample and shows what
// the receiver answered, the account's signing key (revealed on request, regenerated behind a
// confirmation), and the dead-letter list with a manual replay. Through the Webhooks API.
import { Hono } from "hono";
import { html } from "hono/html";
import { WEBHOOK_IDS, MAX_URLS_PER_WEBHOOK } from "../../domain/webhooks";
import { callApi, mustCallApi } from "../api-client";
import type { PanelEnv } from "../context";
import { csrfField, emptyState, panelHref, renderPage, noDomainsPage } from "../layout";
import { backTo, chooseDomain, enc, formAll, formText, when } from "../shared";

const LABELS: Record<(typeof WEBHOOK_IDS)[number], string> = {
  accepted: "Accepted",
  delivered: "Delivered",
  opened: "Opened",
  clicked: "Clicked",
  unsubscribed: "Unsubscribed",
  complained: "Complained",
  permanent_fail: "Permanent failure",
  temporary_fail: "Temporary failure",
};

interface DeadLetter {
  id: string;
  webhook: string;
  url: string;
  attempts: number;
  "last-status": number | null;
  "last-error": string;
  "failed-at": string;
  "event-data": { event?: string; recipient?: string };
}

export const webhooksPages = new Hono<PanelEnv>()
  .get("/", async (c) => {
    const { domains, domain } = await chooseDomain(c);
    if (!domain) {
      return noDomainsPage(c, "Webhooks", "webhooks");
    }
    const [hooks, dead] = await Promise.all([
      mustCallApi<{ webhooks: Record<string, { urls: string[] }> }>(c, "GET", `/v3/domains/${enc(domain)}/webhooks`),
      mustCallApi<{ items: DeadLetter[] }>(c, "GET", `/v3/domains/${enc(domain)}/webhooks/dead-letters?limit=100`),
    ]);
    const reveal = c.req.query("reveal") === "key";
    const key = reveal ? (await mustCallApi<{ http_signing_key: string }>(c, "GET", "/v5/accounts/http_signing_key")).http_signing_key : "";
    const hidden = html`${csrfField(c)}<input type="hidden" name="domain" value="${domain}">`;
    return renderPage(c, {
      title: "Webhooks",
      section: "webhooks",
      domain,
      domains,
      body: html`<p class="muted">Each event is posted as JSON to the URLs of its type, signed with the signing key below. Up to ${MAX_URLS_PER_WEBHOOK} URLs per type; leave all empty to remove the webhook.</p>
${WEBHOOK_IDS.map((id) => {
  const urls = hooks.webhooks[id]?.urls ?? [];
  return html`<form method="post" action="/app/webhooks/save" id="webhook-${id}">${hidden}<input type="hidden" name="id" value="${id}">
<fieldset><legend>${LABELS[id]} <span class="muted">(${id})</span></legend>
<div class="row">${Array.from({ length: MAX_URLS_PER_WEBHOOK }, (_, i) => html`<label>URL ${i + 1}<input type="url" name="url" value="${urls[i] ?? ""}" placeholder="https://example.com/hooks/mailgun" size="36"></label>`)}</div>
<div class="row"><button type="submit">Save</button>${urls.length > 0 ? html` <button type="submit" class="secondary" formaction="/app/webhooks/test">Send test</button>` : ""}</div>
</fieldset></form>`;
})}
<h2>Signing key</h2>
<p class="muted">Receivers check <code>signature</code> = hex HMAC-SHA256(key, timestamp + token). See the README for a 10-line check.</p>
${reveal
  ? html`<p><code id="signing-key">${key}</code> · <a href="${panelHref("webhooks", domain)}">Hide</a></p>`
  : html`<p><a href="${panelHref("webhooks", domain, { reveal: "key" })}">Reveal the signing key</a></p>`}
<form method="post" action="/app/webhooks/signing-key" class="row">${hidden}
  <label class="row"><span><input type="checkbox" name="confirm" value="yes" required> Yes, make a new key (receivers must be given it, the old one stops working)</span></label>
  <button type="submit" class="danger">Regenerate</button>
</form>
<h2>Failed deliveries</h2>
${dead.items.length === 0
  ? emptyState("No failed deliveries — every webhook post so far was accepted or is still being retried.")
  : html`<div class="table-wrap"><table id="dead-letters"><thead><tr><th scope="col">Failed</th><th scope="col">Type</th><th scope="col">URL</th><th scope="col">Last answer</th><th scope="col">Action</th></tr></thead>
<tbody>${dead.items.map((d) => html`<tr><td>${when(c, d["failed-at"])}</td><td>${d.webhook}</td><td><code>${d.url}</code></td>
<td>${d["last-status"] ?? "no answer"} <span class="muted">${d["last-error"]}</span> (${d.attempts} attempts)</td>
<td><form method="post" action="/app/webhooks/replay" class="inline">${hidden}<input type="hidden" name="dead" value="${d.id}"><button type="submit" class="link">Replay</button></form></td></tr>`)}</tbody></table></div>`}`,
    });
  })
  .post("/save", async (c) => {
    const domain = await formText(c, "domain");
    const id = await formText(c, "id");
    const urls = await formAll(c, "url");
    const back = panelHref("webhooks", domain);
    const path = `/v3/domains/${enc(domain)}/webhooks/${enc(id)}`;
    if (urls.length === 0) {
      const result = await callApi(c, "DELETE", path);
      return backTo(c, back, result.ok || result.status === 404 ? { notice: `${id}: no webhook.` } : { error: result.message });
    }
    const body = new FormData();
    for (const url of urls) body.append("url", url);
    const result = await callApi(c, "PUT", path, body);
    return backTo(c, back, result.ok ? { notice: `${id}: ${result.message}` } : { error: result.message });
  })
  .post("/test", async (c) => {
    const domain = await formText(c, "domain");
    const id = await formText(c, "id");
    const [url] = await formAll(c, "url");
    const body = new FormData();
    if (url) body.append("url", url);
    const result = await callApi<{ code: number; message: string }>(c, "PUT", `/v3/domains/${enc(domain)}/webhooks/${enc(id)}/test`, body);
    if (!result.ok) return backTo(c, panelHref("webhooks", domain), { error: result.message });
    const { code, message } = result.body;
    const outcome = code >= 200 && code < 300 ? { notice: `Test ${id} posted to ${url}: the receiver answered ${code}.` } : { error: `Test ${id} posted to ${url}: ${code ? `the receiver answered ${code}` : "no answer"} ${message}`.trim() };
    return backTo(c, panelHref("webhooks", domain), outcome);
  })
  .post("/signing-key", async (c) => {
    const domain = await formText(c, "domain");
    if ((await formText(c, "confirm")) !== "yes") return backTo(c, panelHref("webhooks", domain), { error: "Tick the confirmation box to regenerate the key." });
    const result = await callApi(c, "POST", "/v5/accounts/http_signing_key");
    return backTo(c, panelHref("webhooks", domain, { reveal: "key" }), result.ok ? { notice: "A new signing key was made." } : { error: result.message });
  })
  .post("/replay", async (c) => {
    const domain = await formText(c, "domain");
    const result = await callApi(c, "POST", `/v3/domains/${enc(domain)}/webhooks/dead-letters/${enc(await formText(c, "dead"))}/replay`);
    return backTo(c, panelHref("webhooks", domain), result.ok ? { notice: result.message } : { error: result.message });
  });

