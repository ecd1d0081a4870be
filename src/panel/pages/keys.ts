// Keys (admin keys only): the keys of the Keys API with their role, domain and expiry; a form that
// makes one and shows its secret once, on the page that answers the form (never in a URL, never
// again); and deletion, which ends the key's API calls and panel sessions. Through the Keys API.
import { Hono } from "hono";
import { html, raw } from "hono/html";
import { KEY_ROLES } from "../../domain/access";
import { callApi, mustCallApi } from "../api-client";
import type { PanelEnv } from "../context";
import { csrfField, emptyState, renderPage } from "../layout";
import { backTo, enc, formText, when } from "../shared";

interface KeyItem {
  id: string;
  description: string;
  kind: string;
  role: string;
  created_at: string;
  expires_at?: string;
  is_disabled: boolean;
  domain_name: string | null;
}

const ROLE_HELP: Record<(typeof KEY_ROLES)[number], string> = {
  admin: "admin: everything, keys included",
  developer: "developer: everything but keys",
  basic: "basic: reads events, logs, stats, tags, suppressions and domains",
  sending: "sending: sends mail for one domain, nothing else",
};

/** Days a key may be asked to last from the panel (the API's own bound is ten years). */
const MAX_EXPIRY_DAYS = 3650;

export const keysPages = new Hono<PanelEnv>()
  .get("/", async (c) => {
    const [listed, domains] = await Promise.all([
      mustCallApi<{ items: KeyItem[] }>(c, "GET", "/v1/keys"),
      mustCallApi<{ items: Array<{ name: string }> }>(c, "GET", "/v4/domains?limit=1000"),
    ]);
    const mine = c.get("principal").id;
    return renderPage(c, {
      title: "Keys",
      section: "keys",
      body: html`<p class="muted">API keys for mailgun.js and other clients, as <code>api:&lt;key&gt;</code> in HTTP Basic auth. Admin, developer and basic keys sign in here too. The <code>API_KEY</code> secret is an admin key of its own and is not listed.</p>
${
  listed.items.length === 0
    ? emptyState("No keys yet — make one below for each application, with the least role it needs.")
    : html`<div class="table-wrap"><table id="keys"><thead><tr><th scope="col">Key id</th><th scope="col">Role</th><th scope="col" class="hide-narrow">Description</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
<tbody>${listed.items.map(
        (k) => html`<tr data-key="${k.id}"><td><code>${k.id}</code>${k.id === mine ? html` <span class="badge">yours</span>` : ""}</td>
<td>${k.role}${k.domain_name ? html` <span class="muted">for ${k.domain_name}</span>` : ""}</td>
<td class="hide-narrow">${k.description}</td><td>${when(c, k.created_at)}</td>
<td>${k.expires_at ? when(c, k.expires_at) : "never"}${k.is_disabled ? html` <span class="badge bad">expired</span>` : ""}</td>
<td><form method="post" action="/app/keys/delete" class="row">${csrfField(c)}<input type="hidden" name="id" value="${k.id}">
<label><input type="checkbox" name="confirm" value="yes" required> Yes</label><button type="submit" class="danger" aria-label="Delete key ${k.id}">Delete</button></form></td></tr>`,
      )}</tbody></table></div>`
}
<h2>Make a key</h2>
<form method="post" action="/app/keys" class="stack">${csrfField(c)}
  <label>Role <select name="role">${KEY_ROLES.map((role) => html`<option value="${role}"${role === "basic" ? raw(" selected") : ""}>${ROLE_HELP[role]}</option>`)}</select></label>
  <label>Domain (sending keys only) <select name="domain_name"><option value="">—</option>${domains.items.map((d) => html`<option>${d.name}</option>`)}</select></label>
  <label>Description <input type="text" name="description" maxlength="200" placeholder="newsletter server"></label>
  <label>Expires after (days; empty: never) <input type="number" name="expires_days" min="1" max="${MAX_EXPIRY_DAYS}"></label>
  <div><button type="submit">Make key</button></div>
</form>`,
    });
  })
  .post("/", async (c) => {
    const role = await formText(c, "role");
    const body = new FormData();
    body.append("role", role);
    if (role === "sending") {
      body.append("kind", "domain");
      body.append("domain_name", await formText(c, "domain_name"));
    }
    body.append("description", await formText(c, "description"));
    const days = await formText(c, "expires_days");
    if (days) {
      if (!/^\d{1,4}$/.test(days) || Number(days) < 1 || Number(days) > MAX_EXPIRY_DAYS)
        return backTo(c, "/app/keys", { error: `Expiry must be a whole number of days from 1 to ${MAX_EXPIRY_DAYS}.` });
      body.append("expiration", String(Number(days) * 86_400));
    }
    const result = await callApi<{ key: KeyItem & { secret: string } }>(c, "POST", "/v1/keys", body);
    if (!result.ok) return backTo(c, "/app/keys", { error: result.message });
    const key = result.body.key;
    return renderPage(c, {
      title: "Key made",
      section: "keys",
      body: html`<p class="notice" role="status">A ${key.role} key${key.domain_name ? ` for ${key.domain_name}` : ""} was made (id <code>${key.id}</code>).</p>
<p>Its secret, shown this once and never again — copy it now:</p>
<p><code id="new-key-secret">${key.secret}</code></p>
<p><a href="/app/keys">Back to the keys</a></p>`,
    });
  })
  .post("/delete", async (c) => {
    const id = await formText(c, "id");
    if ((await formText(c, "confirm")) !== "yes") return backTo(c, "/app/keys", { error: "Tick the confirmation box to delete the key." });
    const result = await callApi(c, "DELETE", `/v1/keys/${enc(id)}`);
    return backTo(c, "/app/keys", result.ok ? { notice: `Key ${id} deleted: it no longer works.` } : { error: result.message });
  });
