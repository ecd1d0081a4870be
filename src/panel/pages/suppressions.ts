// Suppressions: the four lists of a domain (bounces, unsubscribes, complaints, allowlist) with
// search, paging, add, delete, delete-all behind a confirmation, CSV import with its report of bad
// rows, and CSV export in the same columns the import reads. All through the Suppressions API.
import { type Context, Hono } from "hono";
import { html, raw } from "hono/html";
import { callApi, mustCallApi } from "../api-client";
import { panelBackPath } from "../back-path";
import type { PanelEnv } from "../context";
import { canChange, csrfField, emptyState, noDomainsPage, panelHref, renderPage } from "../layout";
import { backTo, chooseDomain, enc, formText, when } from "../shared";

const LISTS = [
  ["bounces", "Bounces"],
  ["unsubscribes", "Unsubscribes"],
  ["complaints", "Complaints"],
  ["whitelists", "Allowlist"],
] as const;
type List = (typeof LISTS)[number][0];
const PAGE_SIZE = 50;

interface Row {
  address?: string;
  value?: string;
  type?: string;
  code?: string;
  error?: string;
  tags?: string[];
  reason?: string;
  created_at?: string;
  createdAt?: string;
}

function listOf(text: string | undefined): List {
  return (LISTS.find(([key]) => key === text)?.[0] ?? "bounces") as List;
}

const keyOf = (row: Row) => row.address ?? row.value ?? "";

/** The list's page from the API; `cursor` is the query string of one of the API's paging URLs. */
async function fetchPage(c: Context<PanelEnv>, domain: string, list: List, cursor: string | undefined, term: string, limit = PAGE_SIZE) {
  const query = cursor ? new URLSearchParams(cursor) : new URLSearchParams({ limit: String(limit) });
  if (term && !cursor) query.set("term", term);
  return mustCallApi<{ items: Row[]; paging: Record<"first" | "next" | "previous" | "last", string> }>(c, "GET", `/v3/${enc(domain)}/${list}?${query}`);
}

export const suppressionsPages = new Hono<PanelEnv>()
  .get("/", async (c) => {
    const { domains, domain } = await chooseDomain(c);
    if (!domain) {
      return noDomainsPage(c, "Suppressions", "suppressions");
    }
    const list = listOf(c.req.query("list"));
    const term = c.req.query("term")?.trim() ?? "";
    const cursor = c.req.query("cursor");
    const page = await fetchPage(c, domain, list, cursor, term);
    const here = (extra: Record<string, string | undefined> = {}) => panelHref("suppressions", domain, { list, ...extra });
    const cursorOf = (url: string) => new URL(url).search.slice(1);
    const back = here({ term: term || undefined, cursor });
    const changing = canChange(c);

    return renderPage(c, {
      title: "Suppressions",
      section: "suppressions",
      domain,
      domains,
      body: html`<nav aria-label="Lists" class="tabs"><ul class="legend">${LISTS.map(
        ([key, label]) =>
          html`<li><a href="${panelHref("suppressions", domain, { list: key })}"${key === list ? raw(' aria-current="page"') : ""}>${label}</a></li>`,
      )}</ul></nav>
<form method="get" action="/app/suppressions" class="row" role="search" aria-label="Search this list">
  <input type="hidden" name="domain" value="${domain}"><input type="hidden" name="list" value="${list}">
  <label>Address starts with <input type="search" name="term" value="${term}"></label>
  <button type="submit">Search</button>
  <a class="button secondary" href="/app/suppressions/export.csv?domain=${enc(domain)}&amp;list=${list}" download>Export CSV</a>
</form>
${
  page.items.length === 0
    ? emptyState(
        term
          ? "No address on this list starts with that."
          : "This list is empty — addresses join it by themselves (bounces, unsubscribes, complaints) or you can add one below.",
      )
    : html`<div class="table-wrap"><table id="suppressions">
<thead><tr><th scope="col">${list === "whitelists" ? "Address or domain" : "Address"}</th><th scope="col" class="hide-narrow">${detailHeading(list)}</th><th scope="col">Added</th>${changing ? html`<th scope="col"><span class="muted">Action</span></th>` : ""}</tr></thead>
<tbody>${page.items.map(
        (row) => html`<tr><td>${keyOf(row)}</td><td class="hide-narrow">${detail(list, row)}</td><td>${when(c, row.created_at ?? row.createdAt)}</td>
${changing ? html`<td><form method="post" action="/app/suppressions/delete" class="inline">${csrfField(c)}<input type="hidden" name="domain" value="${domain}"><input type="hidden" name="list" value="${list}"><input type="hidden" name="address" value="${keyOf(row)}"><input type="hidden" name="back" value="${back}"><button type="submit" class="link" aria-label="Delete ${keyOf(row)}">Delete</button></form></td>` : ""}</tr>`,
      )}</tbody></table></div>
${
  cursor || page.items.length === PAGE_SIZE
    ? html`<nav class="pager" aria-label="Pages">${cursor ? html`<a href="${here({ term: term || undefined })}">First</a><a href="${here({ cursor: cursorOf(page.paging.previous) })}">← Previous</a>` : ""}${page.items.length === PAGE_SIZE ? html`<a href="${here({ cursor: cursorOf(page.paging.next) })}">Next →</a>` : ""}</nav>`
    : ""
}`
}
${changing ? changeForms(c, domain, list) : ""}`,
    });
  })
  .post("/add", async (c) => {
    const domain = await formText(c, "domain");
    const list = listOf(await formText(c, "list"));
    const body = new FormData();
    for (const name of ["address", "domain_entry", "code", "error", "tag"]) {
      const value = await formText(c, name);
      if (value) body.append(name === "domain_entry" ? "domain" : name, value);
    }
    const result = await callApi(c, "POST", `/v3/${enc(domain)}/${list}`, body);
    return backTo(c, panelHref("suppressions", domain, { list }), result.ok ? { notice: result.message } : { error: result.message });
  })
  .post("/delete", async (c) => {
    const domain = await formText(c, "domain");
    const list = listOf(await formText(c, "list"));
    const address = await formText(c, "address");
    const back = panelBackPath(await formText(c, "back"), c.req.url) ?? panelHref("suppressions", domain, { list });
    const result = await callApi(c, "DELETE", `/v3/${enc(domain)}/${list}/${enc(address)}`);
    return backTo(c, back, result.ok ? { notice: `${address}: ${result.message}` } : { error: result.message });
  })
  .post("/delete-all", async (c) => {
    const domain = await formText(c, "domain");
    const list = listOf(await formText(c, "list"));
    if ((await formText(c, "confirm")) !== "yes")
      return backTo(c, panelHref("suppressions", domain, { list }), { error: "Tick the confirmation box to delete the whole list." });
    const result = await callApi(c, "DELETE", `/v3/${enc(domain)}/${list}`);
    return backTo(c, panelHref("suppressions", domain, { list }), result.ok ? { notice: result.message } : { error: result.message });
  })
  .post("/import", async (c) => {
    const domain = await formText(c, "domain");
    const list = listOf(await formText(c, "list"));
    const file = (await c.req.formData()).get("file");
    if (!(file instanceof File) || file.size === 0) return backTo(c, panelHref("suppressions", domain, { list }), { error: "Choose a CSV file to import." });
    const body = new FormData();
    body.append("file", file, file.name || "import.csv");
    const result = await callApi<{ message: string; imported?: number; errors?: Array<{ line: number; message: string }> }>(
      c,
      "POST",
      `/v3/${enc(domain)}/${list}/import`,
      body,
    );
    if (!result.ok) return backTo(c, panelHref("suppressions", domain, { list }), { error: result.message });
    const errors = result.body.errors ?? [];
    return renderPage(c, {
      title: "Import report",
      section: "suppressions",
      domain,
      body: html`<p class="notice" role="status">${result.body.message}: ${result.body.imported ?? 0} row${result.body.imported === 1 ? "" : "s"} imported into ${list}.</p>
${
  errors.length === 0
    ? html`<p>No bad rows.</p>`
    : html`<h2>${errors.length} bad row${errors.length === 1 ? "" : "s"} (not imported)</h2>
<div class="table-wrap"><table id="import-errors"><thead><tr><th scope="col" class="num">Line</th><th scope="col">Problem</th></tr></thead>
<tbody>${errors.map((e) => html`<tr><td class="num">${e.line}</td><td>${e.message}</td></tr>`)}</tbody></table></div>`
}
<p><a href="${panelHref("suppressions", domain, { list })}">Back to the list</a></p>`,
    });
  })
  .get("/export.csv", async (c) => {
    const { domain } = await chooseDomain(c);
    if (!domain) return c.text("No domain", 404);
    const list = listOf(c.req.query("list"));
    const lines = [importColumns(list)];
    // Page through the whole list with the API's own cursors, 1,000 at a time.
    let cursor: string | undefined;
    for (;;) {
      const page = await fetchPage(c, domain, list, cursor, "", 1000);
      for (const row of page.items) lines.push(csvLine(list, row));
      if (page.items.length < 1000) break;
      cursor = new URL(page.paging.next).search.slice(1);
    }
    return c.body(`${lines.join("\r\n")}\r\n`, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${domain}-${list}.csv"`,
    });
  });

function detailHeading(list: List): string {
  return { bounces: "Code and error", unsubscribes: "Tags", complaints: "", whitelists: "Reason" }[list];
}

function detail(list: List, row: Row) {
  if (list === "bounces") return `${row.code ?? ""} ${row.error ?? ""}`.trim();
  if (list === "unsubscribes") return (row.tags ?? []).join(", ");
  if (list === "whitelists") return `${row.type ?? ""}${row.reason ? ` — ${row.reason}` : ""}`;
  return "";
}

function addFields(list: List) {
  if (list === "whitelists") {
    return html`<label>Address <input type="text" name="address" inputmode="email"></label><label>or domain <input type="text" name="domain_entry"></label>`;
  }
  const address = html`<label>Address <input type="text" name="address" inputmode="email" required></label>`;
  if (list === "bounces")
    return html`${address}<label>Code <input type="number" name="code" min="100" max="599" placeholder="550"></label><label>Error <input type="text" name="error"></label>`;
  if (list === "unsubscribes") return html`${address}<label>Tag (empty: all mail) <input type="text" name="tag"></label>`;
  return address;
}

function importColumns(list: List): string {
  return { bounces: "address,code,error,created_at", unsubscribes: "address,tags,created_at", complaints: "address,created_at", whitelists: "address,domain" }[
    list
  ];
}

const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

function csvLine(list: List, row: Row): string {
  const fields =
    list === "bounces"
      ? [row.address, row.code, row.error, row.created_at]
      : list === "unsubscribes"
        ? [row.address, (row.tags ?? []).join(","), row.created_at]
        : list === "complaints"
          ? [row.address, row.created_at]
          : row.type === "domain"
            ? ["", row.value]
            : [row.value, ""];
  return fields.map((f) => csvField(String(f ?? ""))).join(",");
}

/** Add, import and delete-all: for developer and admin keys only. */
function changeForms(c: Context<PanelEnv>, domain: string, list: List) {
  return html`<h2>Add</h2>
<form method="post" action="/app/suppressions/add" class="row">${csrfField(c)}
  <input type="hidden" name="domain" value="${domain}"><input type="hidden" name="list" value="${list}">
  ${addFields(list)}
  <button type="submit">Add</button>
</form>
<h2>Import a CSV file</h2>
<form method="post" action="/app/suppressions/import" enctype="multipart/form-data" class="row">${csrfField(c)}
  <input type="hidden" name="domain" value="${domain}"><input type="hidden" name="list" value="${list}">
  <label>CSV file (columns: ${importColumns(list)}) <input type="file" name="file" accept=".csv,text/csv" required></label>
  <button type="submit">Import</button>
</form>
<h2>Delete the whole list</h2>
<form method="post" action="/app/suppressions/delete-all" class="row">${csrfField(c)}
  <input type="hidden" name="domain" value="${domain}"><input type="hidden" name="list" value="${list}">
  <label class="row"><span><input type="checkbox" name="confirm" value="yes" required> Yes, delete every entry of this list for ${domain}</span></label>
  <button type="submit" class="danger">Delete all</button>
</form>`;
}
