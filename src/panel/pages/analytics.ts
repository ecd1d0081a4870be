// Analytics: a domain's (or one tag's) sending and engagement over time from the Stats API,
// unique against total, humans against bots and tables by country and device from the Metrics
// API, by provider from the tag aggregates, and the delivery, open, click and complaint rates.
import { type Context, Hono } from "hono";
import { html, raw } from "hono/html";
import { callApi, mustCallApi } from "../api-client";
import { bar, COLORS, lineChart } from "../charts";
import type { PanelEnv } from "../context";
import { emptyState, noDomainsPage, renderPage } from "../layout";
import { chooseDomain, enc } from "../shared";

const PERIODS = {
  "24h": { label: "Last 24 hours", duration: "24h", resolution: "hour", dimensionDuration: "1d" },
  "7d": { label: "Last 7 days", duration: "7d", resolution: "day", dimensionDuration: "7d" },
  "30d": { label: "Last 30 days", duration: "30d", resolution: "day", dimensionDuration: "30d" },
  "6m": { label: "Last 6 months", duration: "6m", resolution: "month", dimensionDuration: "6m" },
} as const;
type Period = keyof typeof PERIODS;

interface StatsItem {
  time: string;
  accepted: { total: number };
  delivered: { total: number };
  failed: { temporary: { total: number }; permanent: { total: number } };
  opened: { total: number; unique: number };
  clicked: { total: number; unique: number };
  unsubscribed: { total: number };
  complained: { total: number };
}
interface MetricsItem {
  dimensions: Array<{ dimension: string; value: string; display_value: string }>;
  metrics: Record<string, number>;
}

const EVENTS = ["accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained"];

function label(time: string, resolution: string): string {
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) return time;
  if (resolution === "hour") return `${String(d.getUTCHours()).padStart(2, "0")}:00`;
  const month = d.toLocaleString("en", { month: "short", timeZone: "UTC" });
  return resolution === "month" ? `${month} ${d.getUTCFullYear()}` : `${d.getUTCDate()} ${month}`;
}

/**
 * part / base as a percentage, never over 100%. Unique opens and clicks can outnumber deliveries:
 * mail prepared for another server (POST /v1/tracking/prepare) is opened and clicked without a
 * delivered event here, so at most one unique open or click counts per delivered message.
 */
export const rate = (part: number, base: number) => (base > 0 ? `${((Math.min(part, base) / base) * 100).toFixed(1)}%` : "—");

/** Metrics API items for this page's domain, tag and period, split by `dimensions`. */
async function metricsItems(
  c: Context<PanelEnv>,
  dimensions: string[],
  domain: string,
  tag: string,
  period: Period,
  metrics: string[],
): Promise<MetricsItem[]> {
  const and = [{ attribute: "domain", comparator: "=", values: [{ label: domain, value: domain }] }];
  if (tag) and.push({ attribute: "tag", comparator: "=", values: [{ label: tag, value: tag }] });
  const { resolution, dimensionDuration } = PERIODS[period];
  // Country, device and bot are kept per day, so the last 24 hours read as one day's buckets.
  const body = JSON.stringify({
    duration: dimensionDuration,
    resolution: resolution === "hour" ? "day" : resolution,
    dimensions,
    metrics,
    filter: { AND: and },
  });
  const result = await callApi<{ items: MetricsItem[] }>(c, "POST", "/v1/analytics/metrics", body, { "content-type": "application/json" });
  return result.ok ? result.body.items : [];
}

const valueOf = (item: MetricsItem, dimension: string) => item.dimensions.find((d) => d.dimension === dimension)?.display_value || "unknown";

/** Folds items into one row per value of `dimension` (summing the time buckets), largest first. */
function foldBy(items: MetricsItem[], dimension: string, metrics: string[]): Array<[string, Record<string, number>]> {
  const rows = new Map<string, Record<string, number>>();
  for (const item of items) {
    const shown = valueOf(item, dimension);
    const key = dimension === "country" && shown.length === 2 ? shown.toUpperCase() : shown;
    const row = rows.get(key) ?? {};
    for (const [name, value] of Object.entries(item.metrics)) row[name] = (row[name] ?? 0) + Number(value);
    rows.set(key, row);
  }
  return [...rows].sort((a, b) => (b[1][metrics[0]!] ?? 0) - (a[1][metrics[0]!] ?? 0));
}

async function metricsBy(c: Context<PanelEnv>, dimension: string, domain: string, tag: string, period: Period, metrics: string[]) {
  return foldBy(await metricsItems(c, [dimension], domain, tag, period, metrics), dimension, metrics);
}

/** Opens and clicks per stats bucket, humans apart from bots, from items split by time and bot. */
function humanAndBotSeries(items: MetricsItem[], bucketTimes: number[]): { humans: number[]; bots: number[] } {
  const humans = bucketTimes.map(() => 0);
  const bots = bucketTimes.map(() => 0);
  for (const item of items) {
    const at = bucketTimes.indexOf(Date.parse(valueOf(item, "time")));
    if (at < 0) continue;
    const hits = Number(item.metrics.opened_count ?? 0) + Number(item.metrics.clicked_count ?? 0);
    if (valueOf(item, "bot") === "human") humans[at]! += hits;
    else bots[at]! += hits;
  }
  return { humans, bots };
}

function dimensionTable(id: string, caption: string, heading: string, rows: Array<[string, Record<string, number>]>, columns: Array<[string, string]>) {
  const title = caption ? html`<h2>${caption}</h2>` : "";
  if (rows.length === 0) return html`${title}${emptyState("Nothing to show for this period yet.")}`;
  const max = Math.max(...rows.map(([, r]) => r[columns[0]![0]] ?? 0));
  return html`${title}<div class="table-wrap"><table id="${id}"><thead><tr><th scope="col">${heading}</th>${columns.map(([, name]) => html`<th scope="col" class="num">${name}</th>`)}<th scope="col" class="hide-narrow"><span class="muted">Share</span></th></tr></thead>
<tbody>${rows.slice(0, 20).map(([key, r]) => html`<tr><td>${key}</td>${columns.map(([metric]) => html`<td class="num">${r[metric] ?? 0}</td>`)}<td class="hide-narrow">${bar(r[columns[0]![0]] ?? 0, max)}</td></tr>`)}</tbody></table></div>`;
}

export const analyticsPages = new Hono<PanelEnv>().get("/", async (c) => {
  const { domains, domain } = await chooseDomain(c);
  if (!domain) {
    return noDomainsPage(c, "Analytics", "analytics");
  }
  const period = (Object.keys(PERIODS).includes(c.req.query("period") ?? "") ? c.req.query("period") : "7d") as Period;
  const tag = (c.req.query("tag") ?? "").trim().toLowerCase();
  const { duration, resolution } = PERIODS[period];
  const query = new URLSearchParams({ duration, resolution });
  for (const event of EVENTS) query.append("event", event);
  const statsPath = tag ? `/v3/${enc(domain)}/tags/${enc(tag)}/stats?${query}` : `/v3/${enc(domain)}/stats/total?${query}`;

  const [stats, tags, bots, countries, devices, providers] = await Promise.all([
    mustCallApi<{ stats: StatsItem[] }>(c, "GET", statsPath),
    callApi<{ items: Array<{ tag: string }> }>(c, "GET", `/v3/${enc(domain)}/tags?limit=100`),
    metricsItems(c, ["time", "bot"], domain, tag, period, ["opened_count", "clicked_count"]),
    metricsBy(c, "country", domain, tag, period, ["opened_count", "unique_opened_count", "clicked_count", "unique_clicked_count"]),
    metricsBy(c, "device", domain, tag, period, ["opened_count", "unique_opened_count", "clicked_count", "unique_clicked_count"]),
    tag ? callApi<{ provider: Record<string, Record<string, number>> }>(c, "GET", `/v3/${enc(domain)}/tags/${enc(tag)}/stats/aggregates/providers`) : null,
  ]);
  const items = stats.stats;
  const byBot = foldBy(bots, "bot", ["opened_count", "clicked_count"]);
  const botSeries = humanAndBotSeries(
    bots,
    items.map((i) => Date.parse(i.time)),
  );
  const labels = items.map((i) => label(i.time, resolution));
  const sum = (pick: (i: StatsItem) => number) => items.reduce((n, i) => n + pick(i), 0);
  const totals = {
    accepted: sum((i) => i.accepted.total),
    delivered: sum((i) => i.delivered.total),
    failed: sum((i) => i.failed.permanent.total + i.failed.temporary.total),
    opened: sum((i) => i.opened.total),
    openedUnique: sum((i) => i.opened.unique),
    clicked: sum((i) => i.clicked.total),
    clickedUnique: sum((i) => i.clicked.unique),
    unsubscribed: sum((i) => i.unsubscribed.total),
    complained: sum((i) => i.complained.total),
  };
  const anything = Object.values(totals).some((n) => n > 0);
  const tagNames = tags.ok ? tags.body.items.map((t) => t.tag) : [];
  const providerRows: Array<[string, Record<string, number>]> = providers?.ok
    ? Object.entries(providers.body.provider ?? {}).sort((a, b) => (b[1].delivered ?? 0) - (a[1].delivered ?? 0))
    : [];

  return renderPage(c, {
    title: tag ? `Analytics · tag ${tag}` : "Analytics",
    section: "analytics",
    domain,
    domains,
    body: html`<form method="get" action="/app/analytics" class="row" aria-label="Period and tag">
  <input type="hidden" name="domain" value="${domain}">
  <label>Period <select name="period">${(Object.keys(PERIODS) as Period[]).map((p) => html`<option value="${p}"${p === period ? raw(" selected") : ""}>${PERIODS[p].label}</option>`)}</select></label>
  <label>Tag <select name="tag"><option value="">All mail</option>${tagNames.map((t) => html`<option${t === tag ? raw(" selected") : ""}>${t}</option>`)}</select></label>
  <button type="submit">Show</button>
</form>
<p class="muted">Counts come from the rollups the cron makes every few minutes (every 30 seconds under <code>npm start</code>).</p>
${anything ? "" : emptyState("No events in this period yet — send a message or open a tracked link, then look again in a minute.")}
<div class="cards" id="totals">
  ${card("Accepted", totals.accepted)}${card("Delivered", totals.delivered, `${rate(totals.delivered, totals.accepted)} delivery rate`)}
  ${card("Failed", totals.failed)}${card("Opened", totals.opened, `${totals.openedUnique} unique · ${rate(totals.openedUnique, totals.delivered)} open rate`)}
  ${card("Clicked", totals.clicked, `${totals.clickedUnique} unique · ${rate(totals.clickedUnique, totals.delivered)} click rate`)}
  ${card("Unsubscribed", totals.unsubscribed)}${card("Complained", totals.complained, `${rate(totals.complained, totals.delivered)} complaint rate`)}
</div>
${
  totals.openedUnique > totals.delivered || totals.clickedUnique > totals.delivered
    ? html`<p class="muted" id="rate-note">More people opened or clicked than Tidings delivered to: mail prepared for another server (not delivered by Tidings) is tracked too. The open and click rates count at most one per delivered message.</p>`
    : ""
}
<h2>Sending</h2>
${lineChart("chart-sending", "Accepted, delivered and failed over time", labels, [
  { name: "Accepted", color: COLORS[0]!, values: items.map((i) => i.accepted.total) },
  { name: "Delivered", color: COLORS[1]!, values: items.map((i) => i.delivered.total) },
  { name: "Failed", color: COLORS[2]!, values: items.map((i) => i.failed.permanent.total + i.failed.temporary.total) },
])}
<h2>Engagement</h2>
${lineChart("chart-engagement", "Opens and clicks over time, total and unique", labels, [
  { name: "Opened", color: COLORS[0]!, values: items.map((i) => i.opened.total) },
  { name: "Opened (unique)", color: COLORS[0]!, values: items.map((i) => i.opened.unique) },
  { name: "Clicked", color: COLORS[3]!, values: items.map((i) => i.clicked.total) },
  { name: "Clicked (unique)", color: COLORS[3]!, values: items.map((i) => i.clicked.unique) },
  { name: "Unsubscribed", color: COLORS[4]!, values: items.map((i) => i.unsubscribed.total) },
  { name: "Complained", color: COLORS[2]!, values: items.map((i) => i.complained.total) },
])}
<h2>Humans and bots</h2>
${
  resolution === "hour"
    ? html`<p class="muted">The split between humans and bots is kept per day: the table counts today and yesterday.</p>`
    : lineChart("chart-bots", "Opens and clicks by people and by bots over time", labels, [
        { name: "People", color: COLORS[1]!, values: botSeries.humans },
        { name: "Bots (mail privacy proxies, scanners)", color: COLORS[4]!, values: botSeries.bots },
      ])
}
${dimensionTable("by-bot", "", "Who", byBot, [
  ["opened_count", "Opens"],
  ["clicked_count", "Clicks"],
])}
${dimensionTable("by-country", "By country", "Country", countries, [
  ["opened_count", "Opens"],
  ["unique_opened_count", "Unique opens"],
  ["clicked_count", "Clicks"],
  ["unique_clicked_count", "Unique clicks"],
])}
${dimensionTable("by-device", "By device", "Device", devices, [
  ["opened_count", "Opens"],
  ["unique_opened_count", "Unique opens"],
  ["clicked_count", "Clicks"],
  ["unique_clicked_count", "Unique clicks"],
])}
${
  tag
    ? dimensionTable("by-provider", "By mailbox provider", "Provider", providerRows, [
        ["delivered", "Delivered"],
        ["opened", "Opens"],
        ["clicked", "Clicks"],
      ])
    : html`<h2>By mailbox provider</h2><p class="muted">Choose a tag to see its mailbox providers (Mailgun keeps provider counts per tag).</p>`
}`,
  });
});

function card(name: string, value: number, note = "") {
  return html`<div class="card"><span class="muted">${name}</span><b>${value}</b>${note ? html`<span class="muted">${note}</span>` : ""}</div>`;
}
