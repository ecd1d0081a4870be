// The control panel over HTTP, without a browser: sessions (cookie flags, forgery, expiry), CSRF
// on every changing form, that pages render what the API holds (escaped), and that forms change
// it. The browser tests in test/browser drive the same pages in Chromium.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { rollUpStats } from "../../src/cron/rollups";
import { newSessionCookieValue, SESSION_SECONDS } from "../../src/panel/session";
import { API_KEY, api, BASE, createDomain, form, uniqueDomain } from "../helpers";
import { APPLE_PROXY_UA, seedEvents, testEnv } from "../support/stats-seed";

async function signIn(): Promise<string> {
  const response = await SELF.fetch(`${BASE}/app/sign-in`, { method: "POST", body: form({ api_key: API_KEY }), redirect: "manual" });
  expect(response.status).toBe(303);
  const cookie = response.headers.get("set-cookie")!;
  return cookie.split(";")[0]!;
}

function page(path: string, cookie: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie }, redirect: "manual" });
}

async function csrfOf(cookie: string): Promise<string> {
  const html = await (await page("/app/domains", cookie)).text();
  return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
}

describe("panel sessions", () => {
  it("refuses a wrong key, signs in with the right one and sets a strict, HttpOnly, expiring cookie", async () => {
    const wrong = await SELF.fetch(`${BASE}/app/sign-in`, { method: "POST", body: form({ api_key: "nope" }), redirect: "manual" });
    expect(wrong.status).toBe(303);
    expect(wrong.headers.get("location")).toContain("/app/sign-in?error=");
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const right = await SELF.fetch(`${BASE}/app/sign-in`, { method: "POST", body: form({ api_key: API_KEY }), redirect: "manual" });
    const cookie = right.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^tidings_session=[^;]+; Path=\/app; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    // Over https the cookie is Secure too.
    const secure = await SELF.fetch("https://127.0.0.1/app/sign-in", { method: "POST", body: form({ api_key: API_KEY }), redirect: "manual" });
    expect(secure.headers.get("set-cookie")).toContain("; Secure");
  });

  it("keeps every page and its data behind a session", async () => {
    for (const path of ["/app", "/app/logs", "/app/domains", "/app/suppressions", "/app/webhooks", "/app/analytics", "/app/suppressions/export.csv"]) {
      const response = await SELF.fetch(`${BASE}${path}`, { redirect: "manual" });
      expect(response.status, path).toBe(303);
      expect(response.headers.get("location"), path).toBe("/app/sign-in");
    }
    const forged = `tidings_session=${Math.floor(Date.now() / 1000) + 3600}.AAAAAAAAAAAAAAAAAAAAAA.${"A".repeat(43)}`;
    expect((await page("/app/logs", forged)).status).toBe(303);
    const expired = `tidings_session=${await newSessionCookieValue(API_KEY, Date.now() - (SESSION_SECONDS + 5) * 1000)}`;
    expect((await page("/app/logs", expired)).status).toBe(303);
    const valid = `tidings_session=${await newSessionCookieValue(API_KEY, Date.now())}`;
    expect((await page("/app/domains", valid)).status).toBe(200);
    expect((await page("/app/sign-out", valid, { method: "POST", body: form({ _csrf: await csrfOf(valid) }) })).headers.get("set-cookie")).toContain(
      "Max-Age=0",
    );
  });

  it("sends a browser at / to the panel and keeps / as JSON for API clients", async () => {
    const browser = await SELF.fetch(`${BASE}/`, { headers: { accept: "text/html,application/xhtml+xml" }, redirect: "manual" });
    expect(browser.status).toBe(303);
    expect(browser.headers.get("location")).toBe(`${BASE}/app`);
    expect((await SELF.fetch(`${BASE}/`)).headers.get("content-type")).toContain("application/json");
  });
});

describe("panel forms", () => {
  it("refuses a changing form without the session's CSRF token", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("pcsrf");
    for (const token of [undefined, "forged-token"]) {
      const body = form({ name: domain, ...(token ? { _csrf: token } : {}) });
      const response = await page("/app/domains", cookie, { method: "POST", body });
      expect(response.status).toBe(403);
    }
    expect((await api(`/v4/domains/${domain}`)).status).toBe(404);
    // Another session's token does not work either.
    const other = await signIn();
    expect((await page("/app/domains", cookie, { method: "POST", body: form({ name: domain, _csrf: await csrfOf(other) }) })).status).toBe(403);
  });

  it("creates a domain, switches tracking, changes retention, and deletes it only when confirmed", async () => {
    const cookie = await signIn();
    const _csrf = await csrfOf(cookie);
    const domain = uniqueDomain("pdom");
    const created = await page("/app/domains", cookie, { method: "POST", body: form({ name: domain, web_prefix: "email", _csrf }) });
    expect(created.headers.get("location")).toContain(`/app/domains/${domain}?notice=`);
    const detail = await (await page(`/app/domains/${domain}`, cookie)).text();
    const cname = detail.indexOf(`email.${domain}`);
    expect(cname).toBeGreaterThan(0);
    expect(detail.indexOf("<code>CNAME")).toBe(-1);

    await page(`/app/domains/${domain}/tracking`, cookie, {
      method: "POST",
      body: form({
        _csrf,
        open: "yes",
        click: "htmlonly",
        unsubscribe: "yes",
        html_footer: "<p>Bye: %unsubscribe_url%</p>",
        text_footer: "\nBye: %unsubscribe_url%\n",
      }),
    });
    const tracking = (await (await api(`/v3/domains/${domain}/tracking`)).json()) as {
      tracking: { open: { active: boolean }; click: { active: unknown }; unsubscribe: { active: boolean; text_footer: string } };
    };
    expect(tracking.tracking.open.active).toBe(true);
    expect(tracking.tracking.click.active).toBe("htmlonly");
    expect(tracking.tracking.unsubscribe).toMatchObject({ active: true, text_footer: "\nBye: %unsubscribe_url%\n" });

    await page(`/app/domains/${domain}/settings`, cookie, { method: "POST", body: form({ _csrf, web_scheme: "http", retention_days: "7" }) });
    expect(((await (await api(`/v4/domains/${domain}`)).json()) as { domain: { retention_days: number } }).domain.retention_days).toBe(7);
    const badRetention = await page(`/app/domains/${domain}/settings`, cookie, {
      method: "POST",
      body: form({ _csrf, web_scheme: "http", retention_days: "90" }),
    });
    expect(decodeURIComponent(badRetention.headers.get("location")!)).toContain("error=");

    await page(`/app/domains/${domain}/delete`, cookie, { method: "POST", body: form({ _csrf }) });
    expect((await api(`/v4/domains/${domain}`)).status).toBe(200);
    await page(`/app/domains/${domain}/delete`, cookie, { method: "POST", body: form({ _csrf, confirm: "yes" }) });
    expect((await api(`/v4/domains/${domain}`)).status).toBe(404);
  });

  it("adds, lists, exports, imports (with a bad row) and deletes suppressions", async () => {
    const cookie = await signIn();
    const _csrf = await csrfOf(cookie);
    const domain = uniqueDomain("psup");
    await createDomain(domain);
    await page("/app/suppressions/add", cookie, {
      method: "POST",
      body: form({ _csrf, domain, list: "bounces", address: "b@example.org", code: "550", error: "gone" }),
    });
    const listed = await (await page(`/app/suppressions?domain=${domain}&list=bounces`, cookie)).text();
    expect(listed).toContain("b@example.org");

    const csv = await (await page(`/app/suppressions/export.csv?domain=${domain}&list=bounces`, cookie)).text();
    expect(csv.split("\r\n")[0]).toBe("address,code,error,created_at");
    expect(csv).toContain("b@example.org,550,gone,");

    const upload = new FormData();
    upload.append("_csrf", _csrf);
    upload.append("domain", domain);
    upload.append("list", "bounces");
    upload.append("file", new File(["address,code,error\nc@example.org,554,full\nnot-an-address,550,x\n"], "bounces.csv", { type: "text/csv" }));
    const report = await page("/app/suppressions/import", cookie, { method: "POST", body: upload });
    const reportHtml = await report.text();
    expect(report.status).toBe(200);
    expect(reportHtml).toContain("1 row imported");
    expect(reportHtml).toMatch(/<td class="num">3<\/td>/);
    expect((await api(`/v3/${domain}/bounces/c@example.org`)).status).toBe(200);

    // back= takes the browser only to a panel page of this origin; anything else gets the list.
    const offSite = await page("/app/suppressions/delete", cookie, {
      method: "POST",
      body: form({ _csrf, domain, list: "bounces", address: "c@example.org", back: "/app/..//evil.example/x" }),
    });
    expect(offSite.status).toBe(303);
    expect(new URL(offSite.headers.get("location")!, BASE).origin).toBe(new URL(BASE).origin);
    expect(offSite.headers.get("location")).toMatch(new RegExp(`^/app/suppressions\\?domain=${domain.replaceAll(".", "\\.")}&list=bounces&notice=`));
    expect((await api(`/v3/${domain}/bounces/c@example.org`)).status).toBe(404);
    const kept = await page("/app/suppressions/delete", cookie, {
      method: "POST",
      body: form({ _csrf, domain, list: "bounces", address: "c@example.org", back: `/app/suppressions?domain=${domain}&list=bounces&term=c` }),
    });
    expect(kept.headers.get("location")).toMatch(/^\/app\/suppressions\?domain=[^&]+&list=bounces&term=c&(notice|error)=/);
    await page("/app/suppressions/delete-all", cookie, { method: "POST", body: form({ _csrf, domain, list: "bounces" }) });
    expect((await api(`/v3/${domain}/bounces/b@example.org`)).status).toBe(200);
    await page("/app/suppressions/delete-all", cookie, { method: "POST", body: form({ _csrf, domain, list: "bounces", confirm: "yes" }) });
    expect((await api(`/v3/${domain}/bounces/b@example.org`)).status).toBe(404);
  });

  it("saves webhook URLs, shows API errors, and reveals the signing key on request only", async () => {
    const cookie = await signIn();
    const _csrf = await csrfOf(cookie);
    const domain = uniqueDomain("phook");
    await createDomain(domain);
    const bad = await page("/app/webhooks/add", cookie, { method: "POST", body: form({ _csrf, domain, id: "opened", url: "ftp://nope.example.org/" }) });
    expect(new URL(bad.headers.get("location")!, BASE).searchParams.get("error")).toContain("is not a valid url");
    await page("/app/webhooks/add", cookie, { method: "POST", body: form({ _csrf, domain, id: "opened", url: "https://hooks.example.org/o" }) });
    expect(await (await api(`/v3/domains/${domain}/webhooks/opened`)).json()).toEqual({ webhook: { urls: ["https://hooks.example.org/o"] } });
    const key = ((await (await api("/v5/accounts/http_signing_key")).json()) as { http_signing_key: string }).http_signing_key;
    expect(await (await page(`/app/webhooks?domain=${domain}`, cookie)).text()).not.toContain(key);
    expect(await (await page(`/app/webhooks?domain=${domain}&reveal=key`, cookie)).text()).toContain(key);
    await page("/app/webhooks/remove", cookie, { method: "POST", body: form({ _csrf, domain, id: "opened", url: "https://hooks.example.org/o" }) });
    expect((await api(`/v3/domains/${domain}/webhooks/opened`)).status).toBe(404);
  });

  it("escapes what it shows and forbids scripts", async () => {
    const cookie = await signIn();
    const _csrf = await csrfOf(cookie);
    const domain = uniqueDomain("pxss");
    await createDomain(domain);
    await page("/app/suppressions/add", cookie, {
      method: "POST",
      body: form({ _csrf, domain, list: "bounces", address: "x@example.org", error: "<script>alert(1)</script>" }),
    });
    const response = await page(`/app/suppressions?domain=${domain}&list=bounces`, cookie);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    const text = await response.text();
    expect(text).not.toContain("<script>alert(1)</script>");
    expect(text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});

describe("panel pages", () => {
  it("Analytics shows the rollups' counts, unique opens, bots apart, countries and rates", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("pan");
    await createDomain(domain);
    const empty = await (await page(`/app/analytics?domain=${domain}`, cookie)).text();
    expect(empty).toContain("No events in this period yet");
    const now = Date.now();
    await seedEvents(domain, [
      { event: "accepted", ms: now - 60_000, tags: ["news"] },
      { event: "delivered", ms: now - 50_000, tags: ["news"] },
      { event: "opened", ms: now - 40_000, tags: ["news"], country: "DE" },
      { event: "opened", ms: now - 30_000, tags: ["news"], userAgent: APPLE_PROXY_UA, country: "US" },
      { event: "clicked", ms: now - 20_000, tags: ["news"], country: "DE" },
    ]);
    await rollUpStats(testEnv, Date.now());
    const text = await (await page(`/app/analytics?domain=${domain}&period=7d`, cookie)).text();
    const card = (name: string) => new RegExp(`<span class="muted">${name}</span><b>(\\d+)</b>`).exec(text)?.[1];
    expect(card("Accepted")).toBe("1");
    expect(card("Delivered")).toBe("1");
    expect(card("Opened")).toBe("2");
    expect(card("Clicked")).toBe("1");
    expect(text).toContain("100.0% delivery rate");
    expect(text).toMatch(/<table id="by-bot">[\s\S]*human[\s\S]*apple[\s\S]*<\/table>/);
    expect(text).toMatch(/<table id="by-country">[\s\S]*DE[\s\S]*<\/table>/);
    expect(text).toContain('id="chart-sending"');
    // People against bots over time: today holds one human open and click, and one Apple proxy open.
    const bots = /<figure class="chart-figure" id="chart-bots">[\s\S]*?<\/figure>/.exec(text)![0];
    const lastRow = [...bots.matchAll(/<tr><td>[^<]*<\/td><td class="num">(\d+)<\/td><td class="num">(\d+)<\/td><\/tr>/g)].at(-1)!;
    expect([lastRow[1], lastRow[2]]).toEqual(["2", "1"]);
    const tagged = await (await page(`/app/analytics?domain=${domain}&period=7d&tag=news`, cookie)).text();
    expect(tagged).toContain("Analytics · tag news");
    expect(tagged).toContain('<table id="by-provider">');
  });

  it("Logs finds events by recipient, marks bots, hides them on request and shows the JSON", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("plog");
    await createDomain(domain);
    const none = await (await page(`/app/logs?domain=${domain}`, cookie)).text();
    expect(none).toContain("No events yet");
    const now = Date.now();
    await seedEvents(domain, [
      { event: "opened", ms: now - 3000, recipient: "ann@example.org" },
      { event: "opened", ms: now - 2000, recipient: "ann@example.org", userAgent: APPLE_PROXY_UA },
      { event: "clicked", ms: now - 1000, recipient: "bob@example.org" },
    ]);
    const ann = await (await page(`/app/logs?domain=${domain}&recipient=ann@example.org`, cookie)).text();
    expect(ann.match(/<tr data-event=/g)).toHaveLength(2);
    expect(ann).toContain("bot: apple");
    expect(ann).not.toContain("bob@example.org</td>");
    expect(ann).toContain("&quot;recipient&quot;: &quot;ann@example.org&quot;");
    const humans = await (await page(`/app/logs?domain=${domain}&recipient=ann@example.org&hide_bots=on`, cookie)).text();
    expect(humans.match(/<tr data-event=/g)).toHaveLength(1);
    expect(humans).toContain("1 bot hit hidden");
    const clicks = await (await page(`/app/logs?domain=${domain}&event=clicked`, cookie)).text();
    expect(clicks.match(/<tr data-event="clicked"/g)).toHaveLength(1);
  });
});
