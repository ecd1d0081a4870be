// Webhooks: a domain's webhooks as a list (event type and URL, up to 3 URLs per type) with "Add
// webhook" and per-row Remove and Send test (which posts a signed sample and shows what the
// receiver answered), the account's signing key (revealed on request, regenerated behind a
// confirmation), and the dead-letter list with a manual replay. Through the Webhooks API.
import { type Context, Hono } from "hono";
import { html } from "hono/html";
import { MAX_URLS_PER_WEBHOOK, WEBHOOK_IDS } from "../../domain/webhooks";
import { callApi, mustCallApi } from "../api-client";
import type { PanelEnv } from "../context";
import { csrfField, emptyState, noDomainsPage, panelHref, renderPage } from "../layout";
import { backTo, chooseDomain, enc, formText, when } from "../shared";

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

type WebhookId = (typeof WEBHOOK_IDS)[number];
const isWebhookId = (text: string): text is WebhookId => (WEBHOOK_IDS as readonly string[]).includes(text);

/** The URLs of one event type now (none when it has no webhook). */
async function urlsOf(c: Context<PanelEnv>, domain: string, id: WebhookId): Promise<string[]> {
  const result = await callApi<{ webhook: { urls: string[] } }>(c, "GET", `/v3/domains/${enc(domain)}/webhooks/${enc(id)}`);
  return result.ok ? result.body.webhook.urls : [];
}

/** Sets an event type's URLs: created, replaced, or deleted when none are left. */
async function saveUrls(c: Context<PanelEnv>, domain: string, id: WebhookId, before: string[], urls: string[]) {
  const path = `/v3/domains/${enc(domain)}/webhooks`;
  if (urls.length === 0) return callApi(c, "DELETE", `${path}/${enc(id)}`);
  const body = new FormData();
  for (const url of urls) body.append("url", url);
  if (before.length > 0) return callApi(c, "PUT", `${path}/${enc(id)}`, body);
  body.append("id", id);
  return callApi(c, "POST", path, body);
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
    const rows = WEBHOOK_IDS.flatMap((id) => (Object.hasOwn(hooks.webhooks, id) ? hooks.webhooks[id]!.urls : []).map((url) => ({ id, url })));
    return renderPage(c, {
      title: "Webhooks",
      section: "webhooks",
      domain,
      domains,
      body: html`<p class="muted">Each event is posted as JSON to the URLs of its type, signed with the signing key below; up to ${MAX_URLS_PER_WEBHOOK} URLs per event type.</p>
${
  rows.length === 0
    ? emptyState("No webhooks yet — add one below to have events posted to your server.")
    : html`<div class="table-wrap"><table id="webhooks"><thead><tr><th scope="col">Event</th><th scope="col">URL</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>${rows.map(
        ({ id, url }) => html`<tr data-webhook="${id}"><td>${LABELS[id]}</td><td><code>${url}</code></td>
<td><form method="post" action="/app/webhooks/test" class="inline">${hidden}<input type="hidden" name="id" value="${id}"><input type="hidden" name="url" value="${url}"><button type="submit" class="link" aria-label="Send a test ${id} event to ${url}">Send test</button></form>
 · <form method="post" action="/app/webhooks/remove" class="inline">${hidden}<input type="hidden" name="id" value="${id}"><input type="hidden" name="url" value="${url}"><button type="submit" class="link" aria-label="Remove the ${id} webhook to ${url}">Remove</button></form></td></tr>`,
      )}</tbody></table></div>`
}
<h2>Add webhook</h2>
<form method="post" action="/app/webhooks/add" class="row">${hidden}
  <label>Event type <select name="id">${WEBHOOK_IDS.map((id) => html`<option value="${id}">${LABELS[id]} (${id})</option>`)}</select></label>
  <label>URL <input type="url" name="url" required placeholder="https://example.com/hooks/mailgun" size="36"></label>
  <button type="submit">Add webhook</button>
</form>
<h2>Signing key</h2>
<p class="muted">Receivers check <code>signature</code> = hex HMAC-SHA256(key, timestamp + token). See the README for a 10-line check.</p>
${
  reveal
    ? html`<p><code id="signing-key">${key}</code> · <a href="${panelHref("webhooks", domain)}">Hide</a></p>`
    : html`<p><a href="${panelHref("webhooks", domain, { reveal: "key" })}">Reveal the signing key</a></p>`
}
<form method="post" action="/app/webhooks/signing-key" class="row">${hidden}
  <label class="row"><span><input type="checkbox" name="confirm" value="yes" required> Yes, make a new key (receivers must be given it, the old one stops working)</span></label>
  <button type="submit" class="danger">Regenerate</button>
</form>
<h2>Failed deliveries</h2>
${
  dead.items.length === 0
    ? emptyState("No failed deliveries — every webhook post so far was accepted or is still being retried.")
    : html`<div class="table-wrap"><table id="dead-letters"><thead><tr><th scope="col">Failed</th><th scope="col">Type</th><th scope="col">URL</th><th scope="col">Last answer</th><th scope="col">Action</th></tr></thead>
<tbody>${dead.items.map(
        (d) => html`<tr><td>${when(c, d["failed-at"])}</td><td>${d.webhook}</td><td><code>${d.url}</code></td>
<td>${d["last-status"] ?? "no answer"} <span class="muted">${d["last-error"]}</span> (${d.attempts} attempts)</td>
<td><form method="post" action="/app/webhooks/replay" class="inline">${hidden}<input type="hidden" name="dead" value="${d.id}"><button type="submit" class="link">Replay</button></form></td></tr>`,
      )}</tbody></table></div>`
}`,
    });
  })
  .post("/add", async (c) => {
    const domain = await formText(c, "domain");
    const id = await formText(c, "id");
    const url = await formText(c, "url");
    const back = panelHref("webhooks", domain);
    if (!isWebhookId(id)) return backTo(c, back, { error: "Choose an event type from the list." });
    if (!url) return backTo(c, back, { error: "Give the URL to post the events to." });
    const before = await urlsOf(c, domain, id);
    if (before.includes(url)) return backTo(c, back, { notice: `${id}: ${url} is already there.` });
    if (before.length >= MAX_URLS_PER_WEBHOOK)
      return backTo(c, back, { error: `${id} already has ${MAX_URLS_PER_WEBHOOK} URLs, the most it may have: remove one first.` });
    const result = await saveUrls(c, domain, id, before, [...before, url]);
    return backTo(c, back, result.ok ? { notice: `${id}: webhook to ${url} added.` } : { error: result.message });
  })
  .post("/remove", async (c) => {
    const domain = await formText(c, "domain");
    const id = await formText(c, "id");
    const url = await formText(c, "url");
    const back = panelHref("webhooks", domain);
    if (!isWebhookId(id)) return backTo(c, back, { error: "There is no such event type." });
    const before = await urlsOf(c, domain, id);
    if (!before.includes(url)) return backTo(c, back, { error: `${id} has no webhook to ${url}.` });
    const result = await saveUrls(
      c,
      domain,
      id,
      before,
      before.filter((u) => u !== url),
    );
    return backTo(c, back, result.ok ? { notice: `${id}: webhook to ${url} removed.` } : { error: result.message });
  })
  .post("/test", async (c) => {
    const domain = await formText(c, "domain");
    const id = await formText(c, "id");
    const url = await formText(c, "url");
    const body = new FormData();
    if (url) body.append("url", url);
    const result = await callApi<{ code: number; message: string }>(c, "PUT", `/v3/domains/${enc(domain)}/webhooks/${enc(id)}/test`, body);
    if (!result.ok) return backTo(c, panelHref("webhooks", domain), { error: result.message });
    const { code, message } = result.body;
    const outcome =
      code >= 200 && code < 300
        ? { notice: `Test ${id} posted to ${url}: the receiver answered ${code}.` }
        : { error: `Test ${id} posted to ${url}: ${code ? `the receiver answered ${code}` : "no answer"} ${message}`.trim() };
    return backTo(c, panelHref("webhooks", domain), outcome);
  })
  .post("/signing-key", async (c) => {
    const domain = await formText(c, "domain");
    if ((await formText(c, "confirm")) !== "yes")
      return backTo(c, panelHref("webhooks", domain), { error: "Tick the confirmation box to regenerate the key." });
    const result = await callApi(c, "POST", "/v5/accounts/http_signing_key");
    return backTo(c, panelHref("webhooks", domain, { reveal: "key" }), result.ok ? { notice: "A new signing key was made." } : { error: result.message });
  })
  .post("/replay", async (c) => {
    const domain = await formText(c, "domain");
    const result = await callApi(c, "POST", `/v3/domains/${enc(domain)}/webhooks/dead-letters/${enc(await formText(c, "dead"))}/replay`);
    return backTo(c, panelHref("webhooks", domain), result.ok ? { notice: result.message } : { error: result.message });
  });
