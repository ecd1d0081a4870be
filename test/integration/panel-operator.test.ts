// The panel's rough edges of issue 14, over HTTP: Analytics' rates never over 100% and charts whose
// equal series stay apart, the domain page's DNS check in a plain sentence, one date format in the
// time zone chosen in the panel, the suppression tabs and pager, no debug timing in Logs, and the
// favicon. The layout itself (checkboxes beside their labels, 375 px) is checked in Chromium.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { rollUpStats } from "../../src/cron/rollups";
import type { Env } from "../../src/env";
import { api, BASE, createDomain, form, uniqueDomain } from "../helpers";
import { csrfOf, page, panelWith, signIn } from "../support/panel-requests";
import { APPLE_PROXY_UA, seedEvents, testEnv } from "../support/stats-seed";

const errorOf = (response: Response) => new URL(response.headers.get("location")!, BASE).searchParams.get("error");

describe("Analytics after the README walkthrough", () => {
  it("keeps open and click rates at or under 100% when prepared mail (never delivered here) was opened too", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("prate");
    await createDomain(domain);
    const now = Date.now();
    // Step 2-3 of the walkthrough: a prepared message, opened and clicked; no accepted or delivered.
    // Step 5-6: a message sent through Tidings, delivered, opened and clicked.
    await seedEvents(domain, [
      { event: "opened", ms: now - 90_000, messageId: "hello-1@example.com" },
      { event: "clicked", ms: now - 80_000, messageId: "hello-1@example.com" },
      { event: "accepted", ms: now - 60_000, messageId: "sent-1@example.com" },
      { event: "delivered", ms: now - 50_000, messageId: "sent-1@example.com" },
      { event: "opened", ms: now - 40_000, messageId: "sent-1@example.com" },
      { event: "clicked", ms: now - 30_000, messageId: "sent-1@example.com" },
    ]);
    await rollUpStats(testEnv, Date.now());
    const text = await (await page(`/app/analytics?domain=${domain}&period=7d`, cookie)).text();
    const rates = [...text.matchAll(/([\d.]+)% (open|click) rate/g)].map((m) => [m[2], Number(m[1])]);
    expect(rates).toEqual([
      ["open", 100],
      ["click", 100],
    ]);
    expect(text).toContain("2 unique");
    // Why opens outnumber deliveries is said, not hidden.
    expect(text).toMatch(/not delivered by Tidings/);
  });

  it("draws equal series apart (each its own dash and marker), the table agrees with the chart, and the last bucket has an axis label", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("pchart");
    await createDomain(domain);
    const now = Date.now();
    await seedEvents(domain, [
      { event: "accepted", ms: now - 60_000 },
      { event: "delivered", ms: now - 50_000 },
      { event: "opened", ms: now - 40_000 },
      { event: "opened", ms: now - 30_000, userAgent: APPLE_PROXY_UA },
    ]);
    await rollUpStats(testEnv, Date.now());
    const text = await (await page(`/app/analytics?domain=${domain}&period=7d`, cookie)).text();
    // The people-and-bots chart says what the table under it says.
    const desc = /<desc id="chart-bots-desc">People: (\d+) in all; Bots[^:]*: (\d+) in all<\/desc>/.exec(text)!;
    const whoRows = [
      .../<table id="by-bot">[\s\S]*?<\/table>/.exec(text)![0].matchAll(/<tr><td>(\w+)<\/td><td class="num">(\d+)<\/td><td class="num">(\d+)<\/td>/g),
    ];
    const hits = (human: boolean) => whoRows.filter((r) => (r[1] === "human") === human).reduce((n, r) => n + Number(r[2]) + Number(r[3]), 0);
    expect([Number(desc[1]), Number(desc[2])]).toEqual([hits(true), hits(false)]);
    expect([hits(true), hits(false)]).toEqual([1, 1]);
    for (const id of ["chart-sending", "chart-engagement", "chart-bots"]) {
      const figure = new RegExp(`<figure class="chart-figure" id="${id}">[\\s\\S]*?</figure>`).exec(text)![0];
      const lines = [...figure.matchAll(/<polyline [^>]*>/g)].map((m) => m[0]);
      expect(lines.length, id).toBeGreaterThan(1);
      const dashes = lines.map((l) => /stroke-dasharray="([^"]*)"/.exec(l)?.[1] ?? "solid");
      expect(new Set(dashes).size, `${id} dashes ${dashes}`).toBe(lines.length);
      const markers = [...figure.matchAll(/<g class="markers" data-shape="([a-z]+)"/g)].map((m) => m[1]);
      expect(markers, id).toHaveLength(lines.length);
      expect(new Set(markers).size, id).toBe(lines.length);
      // The last bucket's label is on the x axis.
      const rows = [...figure.matchAll(/<tr><td>([^<]*)<\/td>/g)].map((m) => m[1]);
      const axis = [...figure.matchAll(/<text [^>]*class="x-label"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      expect(axis.at(-1), id).toBe(rows.at(-1));
    }
    // Accepted and Delivered are both 1 today: both drawn, both in the table.
    const sending = /<figure class="chart-figure" id="chart-sending">[\s\S]*?<\/figure>/.exec(text)![0];
    const last = [...sending.matchAll(/<tr><td>[^<]*<\/td><td class="num">(\d+)<\/td><td class="num">(\d+)<\/td><td class="num">(\d+)<\/td><\/tr>/g)].at(-1)!;
    expect([last[1], last[2], last[3]]).toEqual(["1", "1", "0"]);
  });
});

describe("the domain page", () => {
  it("says in a plain sentence why Check DNS could not check, never the runtime's error", async () => {
    const cookie = await signIn();
    const _csrf = await csrfOf(cookie);
    const domain = uniqueDomain("pdns");
    await createDomain(domain);
    const unreachable = { ...(env as unknown as Env), DNS_RESOLVER_URL: "http://127.0.0.1:9/dns-query" };
    const failed = errorOf(await panelWith(unreachable, `/app/domains/${domain}/verify`, cookie, { method: "POST", body: form({ _csrf }) }))!;
    expect(failed).toBe(
      "The DNS records could not be checked just now: the DNS resolver could not be reached. Tidings tries again by itself; the records below are as last checked.",
    );
    const off = errorOf(await page(`/app/domains/${domain}/verify`, cookie, { method: "POST", body: form({ _csrf }) }))!;
    expect(off).toBe("DNS checks are switched off on this deployment (no DNS resolver is set), so the records were not looked up.");
  });
});

describe("dates", () => {
  it("are written one way on every page, in UTC or in the time zone chosen in the panel", async () => {
    const cookie = await signIn();
    const _csrf = await csrfOf(cookie);
    const domain = uniqueDomain("pdate");
    await createDomain(domain);
    await seedEvents(domain, [{ event: "opened", ms: Date.UTC(2026, 10, 27, 23, 30, 5), recipient: "ann@example.org" }]);
    await api(`/v3/${domain}/bounces`, { method: "POST", body: form({ address: "b@example.org", created_at: "Fri, 27 Nov 2026 23:30:05 GMT" }) });
    const FORMAT = /\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (UTC|GMT[+-]\d{1,2}(:\d\d)?)\b/;
    const logs = await (await page(`/app/logs?domain=${domain}`, cookie)).text();
    const bounces = await (await page(`/app/suppressions?domain=${domain}&list=bounces`, cookie)).text();
    const domains = await (await page("/app/domains", cookie)).text();
    expect(logs).toContain("2026-11-27 23:30:05 UTC");
    expect(bounces).toContain("2026-11-27 23:30:05 UTC");
    expect(bounces).not.toContain("GMT</td>");
    expect(domains).toMatch(FORMAT);
    expect(domains).not.toMatch(/\w{3}, \d\d \w{3} \d{4}/);

    // A time zone chosen in the panel, kept in a cookie.
    const chosen = await page("/app/settings", cookie, { method: "POST", body: form({ _csrf, time_zone: "Asia/Tokyo", back: `/app/logs?domain=${domain}` }) });
    expect(chosen.status).toBe(303);
    const zoneCookie = chosen.headers.get("set-cookie")!;
    expect(zoneCookie).toMatch(/^tidings_tz=Asia%2FTokyo; Path=\/app; SameSite=Strict; Max-Age=\d+/);
    const both = `${cookie}; ${zoneCookie.split(";")[0]}`;
    expect(await (await page(`/app/logs?domain=${domain}`, both)).text()).toContain("2026-11-28 08:30:05 GMT+9");
    expect(await (await page(`/app/suppressions?domain=${domain}&list=bounces`, both)).text()).toContain("2026-11-28 08:30:05 GMT+9");
    // The Logs time fields are read in that zone too: 08:00 in Tokyo is 23:00 UTC the day before.
    const from = await (await page(`/app/logs?domain=${domain}&begin=2026-11-28T08:00&end=2026-11-28T09:00`, both)).text();
    expect(from.match(/<tr data-event=/g)).toHaveLength(1);
    const before = await (await page(`/app/logs?domain=${domain}&begin=2026-11-28T09:00`, both)).text();
    expect(before.match(/<tr data-event=/g)).toBeNull();

    // A zone Intl does not know is refused, and no cookie is set; a forged cookie falls back to UTC.
    const bad = await page("/app/settings", cookie, { method: "POST", body: form({ _csrf, time_zone: "Mars/Olympus_Mons" }) });
    expect(bad.headers.get("set-cookie")).toBeNull();
    expect(errorOf(bad)).toContain("is not a time zone");
    expect(await (await page(`/app/logs?domain=${domain}`, `${cookie}; tidings_tz=Nowhere%2FLand`)).text()).toContain("2026-11-27 23:30:05 UTC");
  });
});

describe("small things", () => {
  it("suppression tabs mark the current list, the pager shows only when there is another page, and Logs shows no debug timing", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("ppager");
    await createDomain(domain);
    await api(`/v3/${domain}/unsubscribes`, { method: "POST", body: form({ address: "u@example.org" }) });
    const text = await (await page(`/app/suppressions?domain=${domain}&list=unsubscribes`, cookie)).text();
    const current = [...text.matchAll(/<a href="[^"]*list=(\w+)"[^>]* aria-current="page"/g)].map((m) => m[1]);
    expect(current).toEqual(["unsubscribes"]);
    expect(text).toContain("u@example.org");
    expect(text).not.toContain('class="pager"');
    const logs = await (await page(`/app/logs?domain=${domain}`, cookie)).text();
    expect(logs).not.toMatch(/\d+ ms</);
  });

  it("answers /favicon.ico on the deployment's own hosts, cached", async () => {
    for (const origin of ["http://127.0.0.1", "https://shared.test"]) {
      const response = await SELF.fetch(`${origin}/favicon.ico`);
      expect(response.status, origin).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/x-icon");
      expect(response.headers.get("cache-control")).toMatch(/public, max-age=\d{5,}/);
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect([...bytes.slice(0, 6)]).toEqual([0, 0, 1, 0, 1, 0]);
    }
  });
});
