// What a Mailgun or Postmark user looks for in the panel (issue 14), over HTTP: a one-line summary
// per Logs row, a message's timeline, date presets, CSV export of a search, the domain list with
// each tracking CNAME's state, Webhooks as a list with "Add webhook", and "send a test message"
// through the Messages API, refused to a basic key.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { saveDnsCheck } from "../../src/db/dns-checks";
import type { Env } from "../../src/env";
import { LOGS_CSV_MAX_ROWS } from "../../src/panel/pages/logs-export";
import { api, BASE, createDomain, form, recordingQueues, uniqueDomain } from "../helpers";
import { csrfOf, page, panelWith, signIn } from "../support/panel-requests";
import { APPLE_PROXY_UA, type EventSpec, seedEvents } from "../support/stats-seed";

const location = (response: Response) => new URL(response.headers.get("location")!, BASE);
const rowsOf = (html: string) => [...html.matchAll(/<tr data-event="(\w+)"[\s\S]*?<\/tr>/g)].map((m) => ({ event: m[1]!, html: m[0] }));
const decode = (text: string) =>
  text.replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&#39;", "'");

describe("Logs", () => {
  it("gives each row a one-line summary and links it to its message's timeline, which holds every event of that Message-ID, oldest first", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("psum");
    await createDomain(domain);
    const now = Date.now();
    const m1 = { messageId: "m1@example.com", recipient: "ann@example.org", tags: ["news"] };
    await seedEvents(domain, [
      { event: "accepted", ms: now - 60_000, ...m1 },
      { event: "delivered", ms: now - 50_000, ...m1 },
      { event: "opened", ms: now - 40_000, ...m1 },
      { event: "clicked", ms: now - 30_000, ...m1 },
      { event: "accepted", ms: now - 20_000, messageId: "m2@example.com", recipient: "bob@example.org" },
      { event: "failed", ms: now - 10_000, messageId: "m2@example.com", recipient: "bob@example.org", severity: "permanent", reason: "bounce" },
    ]);
    const rows = rowsOf(await (await page(`/app/logs?domain=${domain}`, cookie)).text());
    const summary = (event: string) => decode(/<td class="summary">([^<]*)<\/td>/.exec(rows.find((r) => r.event === event)!.html)![1]!);
    expect(summary("delivered")).toBe("250 OK · tags: news");
    expect(summary("clicked")).toBe("https://example.org/ · tags: news");
    expect(summary("failed")).toBe("bounce: 550 OK");
    expect(summary("accepted")).toMatch(/^From /);

    const link = /<a href="([^"]*\/app\/logs\/timeline[^"]*)">Timeline<\/a>/.exec(rows.find((r) => r.event === "clicked")!.html)![1]!;
    const timelineUrl = new URL(decode(link), BASE);
    expect(timelineUrl.searchParams.get("message_id")).toBe("m1@example.com");
    const timeline = await (await page(`${timelineUrl.pathname}${timelineUrl.search}`, cookie)).text();
    expect([...timeline.matchAll(/<li data-event="(\w+)">/g)].map((m) => m[1])).toEqual(["accepted", "delivered", "opened", "clicked"]);
    expect(timeline).not.toContain("bob@example.org");
    expect(timeline).toContain("4 events for 1 recipient, oldest first");
  });

  it("offers date presets (last hour, 24 hours, 7 days, 30 days) that narrow the search and mark the one in use", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("ppre");
    await createDomain(domain);
    const now = Date.now();
    await seedEvents(domain, [
      { event: "opened", ms: now - 30 * 60_000 },
      { event: "opened", ms: now - 3 * 3_600_000 },
      { event: "opened", ms: now - 3 * 86_400_000 },
      { event: "opened", ms: now - 20 * 86_400_000 },
    ]);
    const counts: Record<string, number> = {};
    for (const range of ["1h", "24h", "7d", "30d"]) {
      const text = await (await page(`/app/logs?domain=${domain}&range=${range}`, cookie)).text();
      counts[range] = rowsOf(text).length;
      expect([...text.matchAll(/<a href="[^"]*range=(\w+)"[^>]* aria-current="true"/g)].map((m) => m[1])).toEqual([range]);
    }
    expect(counts).toEqual({ "1h": 1, "24h": 2, "7d": 3, "30d": 4 });
    // A range that is not a preset is no range at all.
    expect(rowsOf(await (await page(`/app/logs?domain=${domain}&range=1y`, cookie)).text())).toHaveLength(4);
    // The search form keeps the preset; times typed into it win over it.
    expect(await (await page(`/app/logs?domain=${domain}&range=24h`, cookie)).text()).toContain('<input type="hidden" name="range" value="24h">');
    const begin = new Date(now - 10 * 86_400_000).toISOString().slice(0, 16);
    expect(rowsOf(await (await page(`/app/logs?domain=${domain}&range=1h&begin=${begin}`, cookie)).text())).toHaveLength(3);
  });

  it("exports a search as CSV, across the Events API's pages, bots hidden on request", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("pcsv");
    await createDomain(domain);
    const now = Date.now();
    const specs: EventSpec[] = Array.from({ length: 320 }, (_, i) => ({
      event: "opened",
      ms: now - 1000 - i * 1000,
      recipient: `r${i}@example.org`,
      tags: ["a", "b"],
    }));
    specs.push({ event: "opened", ms: now - 500, recipient: "proxy@example.org", userAgent: APPLE_PROXY_UA });
    specs.push({ event: "clicked", ms: now - 400, recipient: "clicker@example.org" });
    await seedEvents(domain, specs);
    const response = await page(`/app/logs/export.csv?domain=${domain}&event=opened`, cookie);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${domain}-events.csv"`);
    const lines = (await response.text()).split("\r\n");
    expect(lines[0]).toBe("time,event,severity,recipient,message_id,subject,from,tags,summary,bot,id");
    expect(lines.at(-1)).toBe("");
    const rows = lines.slice(1, -1);
    expect(rows).toHaveLength(321);
    expect(rows[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,opened,,proxy@example\.org,/);
    expect(rows[1]).toContain(',"a,b",');
    expect(new Set(rows.map((r) => r.split(",")[3])).size).toBe(321);
    const humans = (await (await page(`/app/logs/export.csv?domain=${domain}&event=opened&hide_bots=on`, cookie)).text()).split("\r\n").slice(1, -1);
    expect(humans).toHaveLength(320);
    expect(humans.some((r) => r.includes("proxy@example.org"))).toBe(false);
    // The page links the export of the search it shows, with its row cap.
    const logs = await (await page(`/app/logs?domain=${domain}&event=opened`, cookie)).text();
    expect(decode(logs)).toContain(`/app/logs/export.csv?domain=${domain}&event=opened`);
    expect(logs).toContain(`at most ${LOGS_CSV_MAX_ROWS.toLocaleString("en")} rows`);
  });

  it(`stops a CSV export at ${LOGS_CSV_MAX_ROWS.toLocaleString("en")} rows`, async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("pcap");
    await createDomain(domain);
    const now = Date.now();
    await seedEvents(
      domain,
      Array.from({ length: LOGS_CSV_MAX_ROWS + 5 }, (_, i) => ({ event: "opened" as const, ms: now - 1000 - i * 10, recipient: `c${i}@example.org` })),
    );
    const lines = (await (await page(`/app/logs/export.csv?domain=${domain}`, cookie)).text()).split("\r\n");
    expect(lines.slice(1, -1)).toHaveLength(LOGS_CSV_MAX_ROWS);
    // Newest first: the five oldest are the ones left out.
    expect(lines[1]).toContain(",c0@example.org,");
    expect(lines.at(-2)).toContain(`,c${LOGS_CSV_MAX_ROWS - 1}@example.org,`);
  }, 60_000);
});

describe("Domains", () => {
  it("lists each domain with its tracking CNAME's state as last checked", async () => {
    const cookie = await signIn();
    const verified = uniqueDomain("pstate");
    const unchecked = uniqueDomain("pstate");
    await createDomain(verified);
    await createDomain(unchecked);
    const e = env as unknown as Env;
    await saveDnsCheck(e.DB, {
      host: `email.${verified}`,
      domain: verified,
      expected: e.CNAME_TARGET,
      valid: "valid",
      cached: [e.CNAME_TARGET],
      error: "",
      attempts: 0,
      nextCheckAt: Date.now() + 3_600_000,
      checkedAt: Date.now(),
    });
    const states: Record<string, string> = {};
    // Other files' domains share this storage: walk the list's pages until both are seen.
    for (let skip = 0, more = true; more && Object.keys(states).length < 2 && skip < 5000; skip += 50) {
      const text = await (await page(`/app/domains?skip=${skip}`, cookie)).text();
      for (const m of text.matchAll(/<tr><td><a href="\/app\/domains\/([^"]+)">[^<]*<\/a><\/td><td class="state"><span class="badge[^"]*">([^<]+)<\/span>/g)) {
        if (m[1] === verified || m[1] === unchecked) states[m[1]] = m[2]!;
      }
      more = text.includes(`/app/domains?skip=${skip + 50}`);
    }
    expect(states).toEqual({ [verified]: "verified", [unchecked]: "not checked yet" });
  });
});

describe("Webhooks", () => {
  it("lists webhooks one URL a row, adds one with an event type and a URL, refuses a fourth of a type, and removes them one by one", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("pwh");
    await createDomain(domain);
    const _csrf = await csrfOf(cookie);
    const empty = await (await page(`/app/webhooks?domain=${domain}`, cookie)).text();
    expect(empty).toContain("No webhooks yet");
    expect(empty.match(/type="url"/g)).toHaveLength(1);
    const add = (id: string, url: string) => page("/app/webhooks/add", cookie, { method: "POST", body: form({ _csrf, domain, id, url }) });
    expect(location(await add("clicked", "https://hooks.example.org/1")).searchParams.get("notice")).toBe(
      "clicked: webhook to https://hooks.example.org/1 added.",
    );
    await add("clicked", "https://hooks.example.org/2");
    await add("clicked", "https://hooks.example.org/3");
    expect(location(await add("clicked", "https://hooks.example.org/4")).searchParams.get("error")).toBe(
      "clicked already has 3 URLs, the most it may have: remove one first.",
    );
    expect(location(await add("opened", "ftp://nope.example.org/")).searchParams.get("error")).toContain("is not a valid url");
    expect(location(await add("nonsense", "https://hooks.example.org/x")).searchParams.get("error")).toBe("Choose an event type from the list.");
    await add("delivered", "https://hooks.example.org/d");
    expect(await (await api(`/v3/domains/${domain}/webhooks/clicked`)).json()).toEqual({
      webhook: { urls: ["https://hooks.example.org/1", "https://hooks.example.org/2", "https://hooks.example.org/3"] },
    });
    const listed = await (await page(`/app/webhooks?domain=${domain}`, cookie)).text();
    expect([...listed.matchAll(/<tr data-webhook="(\w+)"><td>[^<]*<\/td><td><code>([^<]*)<\/code>/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual([
      "delivered https://hooks.example.org/d",
      "clicked https://hooks.example.org/1",
      "clicked https://hooks.example.org/2",
      "clicked https://hooks.example.org/3",
    ]);
    const remove = (id: string, url: string) => page("/app/webhooks/remove", cookie, { method: "POST", body: form({ _csrf, domain, id, url }) });
    await remove("clicked", "https://hooks.example.org/2");
    expect(await (await api(`/v3/domains/${domain}/webhooks/clicked`)).json()).toEqual({
      webhook: { urls: ["https://hooks.example.org/1", "https://hooks.example.org/3"] },
    });
    await remove("delivered", "https://hooks.example.org/d");
    expect((await api(`/v3/domains/${domain}/webhooks/delivered`)).status).toBe(404);
    expect(location(await remove("delivered", "https://hooks.example.org/d")).searchParams.get("error")).toBe(
      "delivered has no webhook to https://hooks.example.org/d.",
    );
  });
});

describe("send a test message", () => {
  it("goes through the Messages API from a domain's page and leads to the message's timeline", async () => {
    const cookie = await signIn();
    const domain = uniqueDomain("psend");
    await createDomain(domain);
    const detail = await (await page(`/app/domains/${domain}`, cookie)).text();
    expect(detail).toContain('action="/app/domains/' + domain + '/send"');
    const _csrf = await csrfOf(cookie);
    const queues = recordingQueues();
    const sent = await panelWith(queues.env, `/app/domains/${domain}/send`, cookie, {
      method: "POST",
      body: form({ _csrf, to: "tester@example.org", from: `Test <test@${domain}>`, subject: "Panel test", text: "Hello from the panel" }),
    });
    expect(sent.status).toBe(303);
    const to = location(sent);
    expect(to.pathname).toBe("/app/logs/timeline");
    expect(to.searchParams.get("notice")).toMatch(/^Queued\. Thank you\. The test message <[^>]+> is on its way\.$/);
    expect(queues.deliveries.map((d) => d.recipient)).toEqual(["tester@example.org"]);
    expect(queues.deliveries[0]!.mime).toContain("Subject: Panel test");
    expect(queues.deliveries[0]!.facts.tags).toEqual(["tidings-test"]);
    expect(to.searchParams.get("message_id")).toBe(/<([^>]+)>/.exec(to.searchParams.get("notice")!)![1]);

    // The API's own checks answer: a bad address is its 400 message on the page, nothing queued.
    const bad = await panelWith(queues.env, `/app/domains/${domain}/send`, cookie, {
      method: "POST",
      body: form({ _csrf, to: "not an address", from: `test@${domain}`, subject: "x", text: "x" }),
    });
    expect(location(bad).searchParams.get("error")).toBeTruthy();
    expect(queues.deliveries).toHaveLength(1);
  });

  it("is neither shown to nor accepted from a basic key", async () => {
    const domain = uniqueDomain("psendb");
    await createDomain(domain);
    const made = await api("/v1/keys", { method: "POST", body: form({ role: "basic", description: "read only" }) });
    const { secret } = ((await made.json()) as { key: { secret: string } }).key;
    const cookie = await signIn(secret);
    const detail = await (await page(`/app/domains/${domain}`, cookie)).text();
    expect(detail).not.toContain("/send");
    expect(detail).not.toContain("Send a test message");
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(detail)![1]!;
    const queues = recordingQueues();
    const refused = await panelWith(queues.env, `/app/domains/${domain}/send`, cookie, {
      method: "POST",
      body: form({ _csrf, to: "tester@example.org", from: `test@${domain}`, subject: "x", text: "x" }),
    });
    expect(refused.status).toBe(403);
    expect(queues.jobs).toHaveLength(0);
    // Choosing a time zone changes only the browser's own display: a basic key may.
    const zone = await page("/app/settings", cookie, { method: "POST", body: form({ _csrf, time_zone: "Europe/Berlin", back: "/app/domains" }) });
    expect(zone.status).toBe(303);
    expect(zone.headers.get("set-cookie")).toMatch(/^tidings_tz=Europe%2FBerlin;/);
  });
});
