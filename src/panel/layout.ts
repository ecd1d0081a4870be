// The panel's page shell: head, navigation, domain picker, notice/error banners, and the one
// stylesheet. Pages are server-rendered HTML with no scripts at all (the Content-Security-Policy
// forbids them), so every control is a link or a form and works from the keyboard.
import type { Context } from "hono";
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { mayCall, type UserRole } from "../domain/access";
import type { PanelEnv } from "./context";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The panel's sections and the least role that sees each (webhooks hold secrets; keys are the admin's). */
export const SECTIONS = [
  ["logs", "Logs", "basic"],
  ["analytics", "Analytics", "basic"],
  ["suppressions", "Suppressions", "basic"],
  ["domains", "Domains", "basic"],
  ["webhooks", "Webhooks", "developer"],
  ["keys", "Keys", "admin"],
] as const satisfies ReadonlyArray<readonly [string, string, UserRole]>;
export type Section = (typeof SECTIONS)[number][0];

/** Whether the signed-in key may change things (every role but basic, which only reads). */
export const canChange = (c: Context<PanelEnv>): boolean => mayCall("developer", c.get("principal"), null);

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A link inside the panel that keeps the chosen domain. */
export function panelHref(path: string, domain: string | undefined, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  if (domain) query.set("domain", domain);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") query.set(k, v);
  const text = query.toString();
  return `/app/${path}${text ? `?${text}` : ""}`;
}

/** This page's path and query, for a form or link that comes back here. */
const backHere = (c: Context<PanelEnv>) => {
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
};

/** The hidden CSRF field every changing form carries. */
export const csrfField = (c: Context<PanelEnv>) => html`<input type="hidden" name="_csrf" value="${c.get("csrf")}">`;

export interface PageOptions {
  title: string;
  section?: Section;
  domain?: string;
  domains?: string[];
  body: Html;
}

export function renderPage(c: Context<PanelEnv>, options: PageOptions, status: 200 | 400 | 403 | 404 | 429 = 200): Response | Promise<Response> {
  const notice = c.req.query("notice");
  const error = c.req.query("error");
  const signedIn = !!c.get("session");
  const principal = c.get("principal");
  return c.html(
    html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Tidings</title>
<link rel="stylesheet" href="/app/static/panel.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/app">Tidings</a>
  ${
    signedIn
      ? html`<nav aria-label="Sections"><ul>${SECTIONS.filter(([, , least]) => principal && mayCall(least, principal, null)).map(
          ([key, label]) =>
            html`<li><a href="${panelHref(key, key === "keys" ? undefined : options.domain)}"${key === options.section ? raw(' aria-current="page"') : ""}>${label}</a></li>`,
        )}</ul></nav>
  <form method="post" action="/app/sign-out" class="signout"><span class="muted" id="signed-in-role">${principal?.role} key</span> · <a href="/app/settings?back=${encodeURIComponent(backHere(c))}" id="time-zone-link" title="The time zone dates are shown in">${c.get("timeZone") ?? "UTC"}</a> ${csrfField(c)}<button type="submit" class="link">Sign out</button></form>`
      : ""
  }
</header>
${
  signedIn && options.domains && options.section && options.section !== "domains"
    ? html`<form method="get" action="/app/${options.section}" class="picker">
  <label for="domain-picker">Domain</label>
  <select id="domain-picker" name="domain">${options.domains.map(
    (d) => html`<option value="${d}"${d === options.domain ? raw(" selected") : ""}>${d}</option>`,
  )}</select>
  <button type="submit">Show</button>
</form>`
    : ""
}
<main id="main">
<h1>${options.title}</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ""}
${error ? html`<p class="error" role="alert">${error}</p>` : ""}
${options.body}
</main>
</body>
</html>`,
    status,
    { "content-security-policy": CONTENT_SECURITY_POLICY, "cache-control": "no-store", "x-content-type-options": "nosniff", "referrer-policy": "same-origin" },
  );
}

/** An empty state that says what to do next. */
export const emptyState = (text: string, next?: Html) => html`<div class="empty"><p>${text}</p>${next ?? ""}</div>`;

/** A domain's page when there is no domain yet. */
export function noDomainsPage(c: Context<PanelEnv>, title: string, section: Section) {
  return renderPage(c, {
    title,
    section,
    domains: [],
    body: canChange(c)
      ? emptyState("No domains yet — add your sending domain first.", html`<a class="button" href="/app/domains">Add a domain</a>`)
      : emptyState("No domains yet — a developer or admin key adds them."),
  });
}

export const PANEL_CSS = `
:root{--fg:#1a1d21;--muted:#4f5660;--bg:#fff;--line:#d5d9de;--accent:#0b57d0;--accent-bg:#e8f0fe;--bad:#a50e0e;--bad-bg:#fce8e6;--good:#0d652d;--good-bg:#e6f4ea;--bot:#6b4e00;--bot-bg:#fef7e0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);line-height:1.45}
*{box-sizing:border-box}body{margin:0}
a{color:var(--accent)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible,textarea:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:9}
.top{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;padding:10px 16px;border-bottom:1px solid var(--line);background:#f8f9fa}
.brand{font-weight:700;font-size:1.15rem;text-decoration:none;color:var(--fg)}
.top nav ul{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;margin:0;padding:0}
.top nav a{text-decoration:none;padding:4px 2px}.top nav a[aria-current=page]{font-weight:700;border-bottom:3px solid var(--accent)}
.signout{margin-left:auto}
main{padding:12px 16px 48px;max-width:1200px}
h1{font-size:1.4rem;margin:.4rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .6rem}
.picker{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:8px 16px;border-bottom:1px solid var(--line)}
form.inline{display:inline}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px 12px;align-items:end;margin-bottom:12px}
label{display:block;font-size:.9rem;color:var(--muted)}
.filters label,.stack label{display:flex;flex-direction:column;gap:2px}.filters label.check{flex-direction:row;align-items:center;gap:6px;align-self:center}
input,select,textarea,button{font:inherit;min-height:36px}
input[type=checkbox],input[type=radio]{min-height:0;width:18px;height:18px;margin:0;flex:none;vertical-align:-3px;accent-color:var(--accent)}
.stack label:has(>input[type=checkbox]),.stack label:has(>input[type=radio]),label.check{flex-direction:row;align-items:flex-start;gap:8px;color:var(--fg)}
label>input[type=checkbox],label>input[type=radio]{margin-top:2px}
input[type=text],input[type=email],input[type=url],input[type=search],input[type=datetime-local],input[type=number],select,textarea{padding:5px 8px;border:1px solid #8a9099;border-radius:4px;background:#fff;color:var(--fg);max-width:100%}
button,.button{padding:6px 14px;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:4px;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad)}
button.link{background:none;border:none;color:var(--accent);text-decoration:underline;padding:0;min-height:0}
.notice{background:var(--good-bg);color:var(--good);padding:8px 12px;border-radius:4px}
.error{background:var(--bad-bg);color:var(--bad);padding:8px 12px;border-radius:4px}
.empty{border:1px dashed var(--line);padding:18px;border-radius:6px;color:var(--muted)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.93rem}caption{text-align:left}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;background:#f8f9fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;font-size:.78rem;padding:1px 6px;border-radius:10px;background:var(--accent-bg);color:var(--accent);white-space:nowrap}
.badge.bot{background:var(--bot-bg);color:var(--bot)}.badge.bad{background:var(--bad-bg);color:var(--bad)}.badge.good{background:var(--good-bg);color:var(--good)}
details>summary{cursor:pointer}
pre{background:#f6f8fa;padding:10px;border-radius:4px;overflow-x:auto;font-size:.82rem;max-width:100%}
pre.wrap{white-space:pre-wrap;overflow-wrap:anywhere}
.pager{display:flex;gap:12px;margin:12px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:10px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:10px}.card b{display:block;font-size:1.35rem}
.chart{width:100%;height:auto;max-width:100%;border:1px solid var(--line);border-radius:6px;background:#fff}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;padding:0;font-size:.9rem}
.legend svg{vertical-align:middle;margin-right:4px}
.tabs a,.presets a{display:inline-block;padding:4px 2px;text-decoration:none}.tabs a[aria-current],.presets a[aria-current]{font-weight:700;color:var(--fg);border-bottom:3px solid var(--accent)}
td.summary,.timeline .summary{overflow-wrap:anywhere;max-width:32rem}
.timeline{list-style:none;padding:0;margin:0;border-left:3px solid var(--line)}.timeline li{padding:6px 0 8px 12px;border-bottom:1px solid var(--line)}.timeline .summary{color:var(--muted);font-size:.9rem}
.state,td time{white-space:nowrap}
fieldset label{margin:4px 0}form.row+h2,table+form,.table-wrap+form{margin-top:10px}
.stack{display:flex;flex-direction:column;gap:10px;max-width:560px}
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:end}
.muted{color:var(--muted)}code{font-size:.9em;word-break:break-all}
fieldset{border:1px solid var(--line);border-radius:6px;margin:0 0 12px;padding:10px 12px}
@media (max-width:600px){main{padding:10px}th,td{padding:5px}.hide-narrow{display:none}}
`;
