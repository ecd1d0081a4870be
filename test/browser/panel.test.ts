// The control panel in a real browser, as a person uses it: Debian's Chromium driven by
// playwright-core against a Worker started by the test (wrangler's local runtime, as `npm start`).
// Locators are roles and labels, so a control without a name or a label fails the test. Before the
// Worker starts, 20,000 events of bulk.example.com are written into its D1 for the Logs searches;
// the page-weight figures are printed as "MEASURED ..." lines (shown when a test fails). How long a
// search takes is measured by `npm run bench` (bench/logs-search.bench.ts), not asserted here.
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "../node/start-worker";
import { BULK, BULK_DOMAIN, bulkMessageId, bulkRecipient, bulkSubject, seedBulkEvents } from "./seed";
import {
  banner,
  CHROMIUM,
  firstLoadWeight,
  horizontalOverflow,
  launchChromium,
  lowContrastText,
  newContext,
  type Receiver,
  signIn,
  startReceiver,
  waitFor,
} from "./support";

const root = path.resolve(import.meta.dirname, "../..");
// The README's screenshots are rewritten only when asked (SCREENSHOTS=1 npm test), so an ordinary
// run leaves the checkout clean; otherwise they go to a temporary folder and are still taken.
const SCREENSHOTS = process.env.SCREENSHOTS === "1" ? path.join(root, "docs/screenshots") : path.join(tmpdir(), "tidings-screenshots");
const DOMAIN = "news.example.com";
const READER = "reader@example.org";
const OTHER = "colleague@example.org";
const KB = 1024;
const MAX_ASSET_BYTES = 150 * KB;

let worker: RunningWorker;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let receiver: Receiver;

function api(pathname: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${worker.url}${pathname}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Basic ${btoa(`api:${worker.apiKey}`)}` },
    signal: AbortSignal.timeout(10_000),
  });
}

/** A link of the Sections navigation, the way a person moves between pages. */
async function goToSection(p: Page, name: "Logs" | "Analytics" | "Suppressions" | "Domains" | "Webhooks"): Promise<void> {
  await Promise.all([
    p.waitForURL(new RegExp(`/app/${name.toLowerCase()}`)),
    p.getByRole("navigation", { name: "Sections" }).getByRole("link", { name }).click(),
  ]);
}

const heading = (p: Page) => p.getByRole("heading", { level: 1 }).innerText();

/**
 * Each checkbox and radio in the page's main part: how tall it is, and whether the first line of
 * its label's text sits to its right, across its middle (not above or below it).
 */
function inlineControls(p: Page) {
  return p.locator('main input[type="checkbox"], main input[type="radio"]').evaluateAll((els) =>
    els.map((el) => {
      const box = el.getBoundingClientRect();
      const label = el.closest("label");
      let text: DOMRect | undefined;
      const walker = document.createTreeWalker(label ?? el, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node && !text; node = walker.nextNode()) {
        if (!node.textContent?.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        text = range.getClientRects()[0];
      }
      const middle = box.top + box.height / 2;
      const beside = !!text && text.left >= box.right - 1 && text.top <= middle && text.bottom >= middle;
      return { label: (label?.textContent ?? "").trim().slice(0, 40), height: Math.round(box.height), beside };
    }),
  );
}

async function expectInlineControls(p: Page, what: string): Promise<void> {
  const controls = await inlineControls(p);
  expect(controls.length, what).toBeGreaterThan(0);
  expect(
    controls.filter((c) => c.height > 24 || !c.beside),
    `${what}: ${JSON.stringify(controls)}`,
  ).toEqual([]);
}

/**
 * Debian's chromium is installed by .ci/run. On a developer machine without it the file says how
 * to get it and skips; under CI (CI set) a missing browser fails the run instead.
 */
const haveChromium = existsSync(CHROMIUM) || !!process.env.CI;
if (!haveChromium) console.warn(`SKIPPED the browser tests: ${CHROMIUM} is missing. Install it with: sudo apt-get install -y chromium`);

beforeAll(async () => {
  if (!haveChromium) return;
  receiver = await startReceiver();
  worker = await startWorker({}, { beforeStart: (state) => seedBulkEvents(state) });
  browser = await launchChromium();
  context = await newContext(browser);
  page = await context.newPage();
  await signIn(page, worker.url, worker.apiKey);
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await receiver?.close();
});

describe.runIf(haveChromium)("the control panel in Chromium", () => {
  it("keeps everything behind sign-in, refuses a wrong key, signs in from the keyboard and says what to do first", async () => {
    const stranger = await newContext(browser);
    const p = await stranger.newPage();
    for (const section of ["logs", "analytics", "suppressions", "domains", "webhooks"]) {
      await p.goto(`${worker.url}/app/${section}`);
      expect(new URL(p.url()).pathname, section).toBe("/app/sign-in");
    }
    await p.getByLabel("API key").fill("not-the-key");
    await p.getByRole("button", { name: "Sign in" }).click();
    expect(await banner(p, "alert")).toBe("That is not the API key.");

    await signIn(p, worker.url, worker.apiKey);
    expect(await heading(p)).toBe("Logs");
    expect(await p.locator("main .empty").innerText()).toContain("No domains yet — add your sending domain first.");
    await goToSection(p, "Domains");
    expect(await p.locator("main .empty").innerText()).toContain(
      "No domains yet — add the domain you send mail from, then point its tracking CNAME at Tidings.",
    );
    // The first Tab from the top of a page reaches the skip link.
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await stranger.close();
  });

  it("a message's life: create a domain, switch tracking, send, open and click, find both in Logs, count them in Analytics", async () => {
    // Create the domain.
    await goToSection(page, "Domains");
    await page.getByLabel("Domain name").fill(DOMAIN);
    await Promise.all([page.waitForURL(new RegExp(`/app/domains/${DOMAIN}`)), page.getByRole("button", { name: "Add domain" }).click()]);
    expect(await banner(page, "status")).toBe(`Domain ${DOMAIN} added. Set its DNS records below.`);
    expect(await heading(page)).toBe(DOMAIN);
    const firstRecord = await page.locator("#dns tbody tr").first().innerText();
    expect(firstRecord).toMatch(new RegExp(`^CNAME\\s+email\\.${DOMAIN.replaceAll(".", "\\.")}\\s`));

    // Switch tracking: opens on, clicks in HTML only; saved, and still so after a reload.
    const opens = page.getByRole("checkbox", { name: "Track opens (a pixel at the end of the HTML)" });
    const htmlOnly = page.getByRole("radio", { name: "HTML links only" });
    expect(await opens.isChecked()).toBe(false);
    await opens.check();
    await htmlOnly.check();
    await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: "Save tracking" }).click()]);
    expect(await banner(page, "status")).toBe("Tracking settings saved.");
    await page.reload();
    expect(await opens.isChecked()).toBe(true);
    expect(await htmlOnly.isChecked()).toBe(true);
    expect(await page.getByRole("radio", { name: "HTML and text links" }).isChecked()).toBe(false);
    const tracking = (await (await api(`/v3/domains/${DOMAIN}/tracking`)).json()) as { tracking: { open: { active: boolean }; click: { active: unknown } } };
    expect(tracking.tracking.open.active).toBe(true);
    expect(tracking.tracking.click.active).toBe("htmlonly");
    // Checkboxes and radios are small and sit beside their labels (they were 36 px tall, above them).
    await expectInlineControls(page, "domain page");
    // Check DNS says why it could not look in a sentence, not with the runtime's error.
    await Promise.all([page.waitForURL(/(notice|error)=/), page.getByRole("button", { name: "Check DNS" }).click()]);
    const dns = await page
      .locator("main")
      .getByRole(/error=/.test(page.url()) ? "alert" : "status")
      .innerText();
    expect(dns).toMatch(/^(DNS checks are switched off on this deployment|The DNS records could not be checked just now|DNS checked: )/);
    expect(dns).not.toMatch(/Error|fetch failed|Network connection/);

    // Before any mail: Logs and Analytics say what to do next.
    await Promise.all([page.waitForURL(new RegExp(`/app/logs\\?domain=${DOMAIN}`)), page.getByRole("main").getByRole("link", { name: "Logs" }).click()]);
    expect(await page.locator("main .empty").innerText()).toBe("No events yet — send a message or open a tracked link.");
    await goToSection(page, "Analytics");
    expect(await page.locator("main .empty").first().innerText()).toBe(
      "No events in this period yet — send a message or open a tracked link, then look again in a minute.",
    );
    expect(await page.locator("main .empty").nth(1).innerText()).toBe("Nothing to show for this period yet.");

    // Send a message through the Messages API (test mode: accepted and delivered, no SMTP).
    // The link leads to a page of the local receiver (no network here); any http(s) link is tracked.
    const landing = `${receiver.url}/start`;
    const html = `<html><body><p>Hello! <a href="${landing}">Get started</a></p></body></html>`;
    const form = new FormData();
    form.append("from", `News <news@${DOMAIN}>`);
    form.append("to", READER);
    form.append("to", OTHER);
    form.append("subject", "Welcome aboard");
    form.append("html", html);
    form.append("text", `Hello! Get started: ${landing}`);
    form.append("o:tag", "welcome");
    form.append("o:testmode", "yes");
    const sent = await api(`/v3/${DOMAIN}/messages`, { method: "POST", body: form });
    expect(sent.status).toBe(200);
    const { id: messageId } = (await sent.json()) as { id: string };

    // The reader's copy with its tracking links (prepare uses the same code as the send path),
    // read in the browser: the pixel loads, then the reader clicks the link.
    const prepared = await api("/v1/tracking/prepare", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        domain: DOMAIN,
        message_id: messageId,
        recipient: READER,
        subject: "Welcome aboard",
        from: `News <news@${DOMAIN}>`,
        tags: ["welcome"],
        html,
      }),
    });
    expect(prepared.status).toBe(200);
    const tracked = ((await prepared.json()) as { html: string }).html;
    expect(tracked).toContain(`${worker.url}/o/`);
    expect(tracked).toContain(`${worker.url}/c/`);
    const reader = await newContext(browser);
    const mail = await reader.newPage();
    const pixel = mail.waitForResponse((r) => r.url().startsWith(`${worker.url}/o/`));
    await mail.setContent(tracked);
    const pixelResponse = await pixel;
    expect(pixelResponse.status()).toBe(200);
    expect(pixelResponse.headers()["content-type"]).toContain("image/");
    expect(await mail.getByRole("link", { name: "Get started" }).getAttribute("href")).toMatch(new RegExp(`^${worker.url}/c/`));
    await Promise.all([mail.waitForURL(landing), mail.getByRole("link", { name: "Get started" }).click()]);
    expect(await mail.getByRole("heading", { name: "Started" }).isVisible()).toBe(true);
    await reader.close();

    // Logs: search by recipient until the pipeline has stored all four events (queue batches of 1 s).
    await goToSection(page, "Logs");
    expect(new URL(page.url()).searchParams.get("domain")).toBe(DOMAIN);
    await page.getByLabel("Recipient").fill(READER);
    await Promise.all([page.waitForURL(/recipient=/), page.getByRole("button", { name: "Search" }).click()]);
    const seen = await waitFor("accepted, delivered, opened and clicked in Logs", async () => {
      const kinds = await page.locator("#events tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-event")));
      if (["accepted", "delivered", "opened", "clicked"].every((k) => kinds.includes(k))) return kinds;
      await page.reload();
      return undefined;
    });
    expect(seen.sort()).toEqual(["accepted", "clicked", "delivered", "opened"]);
    const recipients = await page.locator("#events tbody tr td:nth-child(3)").allInnerTexts();
    expect(new Set(recipients)).toEqual(new Set([READER]));
    // Newest first: the click is the top row.
    expect(await page.locator("#events tbody tr").first().getAttribute("data-event")).toBe("clicked");
    // The detail view: the whole event JSON, opened from the keyboard.
    const clickRow = page.locator('#events tbody tr[data-event="clicked"]');
    await clickRow.locator("summary").focus();
    await page.keyboard.press("Enter");
    const json = JSON.parse(await clickRow.locator("pre").innerText()) as {
      event: string;
      recipient: string;
      url: string;
      tags: string[];
      "client-info": { bot: string };
    };
    expect(json).toMatchObject({ event: "clicked", recipient: READER, url: landing, tags: ["welcome"] });
    await clickRow.locator("summary").click();
    await clickRow.locator("summary").blur();
    // A click within 5 s of the link being made is classified as a link scanner (a bot); the open,
    // from a desktop browser, is a person. Hiding bots hides exactly the rows marked as bots.
    const clickIsBot = json["client-info"].bot !== "";
    expect(await clickRow.getByText(/^bot: /).count()).toBe(clickIsBot ? 1 : 0);
    expect(await page.locator('#events tbody tr[data-event="opened"]').getAttribute("data-bot")).toBeNull();
    const hideBots = page.getByRole("checkbox", { name: "Hide bot opens and clicks" });
    await hideBots.check();
    await Promise.all([page.waitForURL(/hide_bots=on/), page.getByRole("button", { name: "Search" }).click()]);
    expect(await page.locator("#events tbody tr").count()).toBe(clickIsBot ? 3 : 4);
    expect(await page.locator("#result-count").innerText()).toMatch(clickIsBot ? /^3 events on this page, 1 bot hit hidden/ : /^4 events on this page\./);
    await page.getByRole("checkbox", { name: "Hide bot opens and clicks" }).uncheck();
    await Promise.all([page.waitForURL((u) => !u.searchParams.has("hide_bots")), page.getByRole("button", { name: "Search" }).click()]);
    expect(await page.locator("#events tbody tr").count()).toBe(4);
    await page.screenshot({ path: path.join(SCREENSHOTS, "logs.png") });
    // Each row says what happened in a line: the click its URL.
    expect(await clickRow.locator("td.summary").innerText()).toBe(`${landing} · tags: welcome`);
    // The message's timeline: every event of its Message-ID, both recipients, oldest first.
    await Promise.all([page.waitForURL(/\/app\/logs\/timeline\?/), clickRow.getByRole("link", { name: "Timeline" }).click()]);
    expect(await heading(page)).toBe("Message timeline");
    const life = await page.locator("#timeline li").evaluateAll((items) => items.map((i) => i.getAttribute("data-event")));
    expect(life[0]).toBe("accepted");
    expect(life.at(-1)).toBe("clicked");
    expect([...life].sort()).toEqual(["accepted", "accepted", "clicked", "delivered", "delivered", "opened"]);
    await page.screenshot({ path: path.join(SCREENSHOTS, "timeline.png") });
    await page.goBack();
    // The event type filter, with the recipient still set.
    await page.getByRole("combobox", { name: /^Event/ }).selectOption("opened");
    await Promise.all([page.waitForURL(/event=opened/), page.getByRole("button", { name: "Search" }).click()]);
    expect(await page.locator("#events tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-event")))).toEqual(["opened"]);

    // Analytics after the stats rollup (the cron trigger, through wrangler's scheduled endpoint).
    const cron = await fetch(`${worker.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`, { signal: AbortSignal.timeout(15_000) });
    expect(cron.status).toBe(200);
    await goToSection(page, "Analytics");
    expect(new URL(page.url()).searchParams.get("domain")).toBe(DOMAIN);
    const card = (name: string) =>
      page
        .locator("#totals .card")
        .filter({ has: page.locator("span.muted", { hasText: new RegExp(`^${name}$`) }) })
        .locator("b")
        .innerText();
    const counts = await waitFor("the rollup's counts in Analytics", async () => {
      const shown = { accepted: await card("Accepted"), delivered: await card("Delivered"), opened: await card("Opened"), clicked: await card("Clicked") };
      if (shown.opened !== "0" && shown.clicked !== "0" && shown.delivered !== "0") return shown;
      await page.reload();
      return undefined;
    });
    expect(counts).toEqual({ accepted: "2", delivered: "2", opened: "1", clicked: "1" });
    expect(await page.getByText("100.0% delivery rate").isVisible()).toBe(true);
    expect(await page.getByText("1 unique · 50.0% open rate").isVisible()).toBe(true);
    expect(await page.locator("main .empty").count()).toBe(0);
    expect(await page.getByRole("img", { name: /Accepted, delivered and failed over time/ }).count()).toBe(1);
    expect(await page.getByRole("heading", { name: "Humans and bots" }).isVisible()).toBe(true);
    expect((await page.locator("#by-bot tbody tr td:first-child").allInnerTexts()).length).toBeGreaterThan(0);
    const tagPicker = page.getByRole("combobox", { name: /^Tag/ });
    await tagPicker.selectOption("welcome");
    await Promise.all([page.waitForURL(/tag=welcome/), page.getByRole("button", { name: "Show", exact: true }).last().click()]);
    expect(await heading(page)).toBe("Analytics · tag welcome");
    expect(await card("Opened")).toBe("1");
    await tagPicker.selectOption("");
    await Promise.all([page.waitForURL((u) => !u.searchParams.get("tag")), page.getByRole("button", { name: "Show", exact: true }).last().click()]);
    await page.screenshot({ path: path.join(SCREENSHOTS, "analytics.png") });
  });

  it("suppressions: add and remove one, import a CSV with a bad row and read the report, delete the list only when confirmed", async () => {
    await goToSection(page, "Suppressions");
    // The domain picker.
    await page.getByLabel("Domain", { exact: true }).selectOption(DOMAIN);
    await Promise.all([page.waitForURL(new RegExp(`domain=${DOMAIN}`)), page.getByRole("button", { name: "Show", exact: true }).click()]);
    const empty = "This list is empty — addresses join it by themselves (bounces, unsubscribes, complaints) or you can add one below.";
    expect(await page.locator("main .empty").innerText()).toBe(empty);

    await page.getByLabel("Address", { exact: true }).fill("gone@example.org");
    await page.getByLabel("Code", { exact: true }).fill("550");
    await page.getByLabel("Error", { exact: true }).fill("mailbox does not exist");
    await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: "Add", exact: true }).click()]);
    expect(await banner(page, "status")).toBe("Address has been added to the bounces table");
    expect(await page.locator("#suppressions tbody tr").count()).toBe(1);
    expect(await page.locator("#suppressions tbody tr td").first().innerText()).toBe("gone@example.org");
    expect((await api(`/v3/${DOMAIN}/bounces/gone@example.org`)).status).toBe(200);

    await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: "Delete gone@example.org" }).click()]);
    expect(await banner(page, "status")).toContain("gone@example.org");
    expect(await page.locator("main .empty").innerText()).toBe(empty);
    expect((await api(`/v3/${DOMAIN}/bounces/gone@example.org`)).status).toBe(404);

    // A CSV with one bad row (line 3).
    await page.getByLabel(/CSV file/).setInputFiles({
      name: "bounces.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("address,code,error\nfull@example.org,552,mailbox full\nnot-an-address,550,unknown\nold@example.org,550,gone\n"),
    });
    await Promise.all([page.waitForURL(/\/app\/suppressions\/import/), page.getByRole("button", { name: "Import" }).click()]);
    expect(await heading(page)).toBe("Import report");
    expect(await banner(page, "status")).toContain("2 rows imported into bounces");
    expect(await page.getByRole("heading", { name: "1 bad row (not imported)" }).isVisible()).toBe(true);
    const bad = await page.locator("#import-errors tbody tr").allInnerTexts();
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^3\s+\S/);
    await page.getByRole("link", { name: "Back to the list" }).click();
    await page.waitForURL(/\/app\/suppressions\?/);
    expect((await page.locator("#suppressions tbody tr td:first-child").allInnerTexts()).sort()).toEqual(["full@example.org", "old@example.org"]);
    // Export: a CSV download in the columns the import reads.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    expect(download.suggestedFilename()).toBe(`${DOMAIN}-bounces.csv`);
    const exported = await new Promise<string>((resolve, reject) => {
      download.createReadStream().then((stream) => {
        let text = "";
        stream.on("data", (chunk) => (text += chunk));
        stream.on("end", () => resolve(text));
        stream.on("error", reject);
      }, reject);
    });
    const lines = exported.trim().split("\r\n");
    expect(lines[0]).toBe("address,code,error,created_at");
    expect(
      lines
        .slice(1)
        .map((l) => l.split(",").slice(0, 3).join(","))
        .sort(),
    ).toEqual(["full@example.org,552,mailbox full", "old@example.org,550,gone"]);

    // Delete all: the browser refuses the form until the confirmation box is ticked.
    const before = page.url();
    await page.getByRole("button", { name: "Delete all" }).click();
    expect(page.url()).toBe(before);
    const confirm = page.getByRole("checkbox", { name: `Yes, delete every entry of this list for ${DOMAIN}` });
    expect(await confirm.evaluate((el) => (el as HTMLInputElement).validity.valueMissing)).toBe(true);
    expect(await page.locator("#suppressions tbody tr").count()).toBe(2);
    await confirm.check();
    await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: "Delete all" }).click()]);
    expect(await page.locator("main .empty").innerText()).toBe(empty);
  });

  it("webhooks: add one by event type and URL, send a test and see what the receiver answered, remove one; reveal and regenerate the signing key", async () => {
    await goToSection(page, "Webhooks");
    expect(new URL(page.url()).searchParams.get("domain")).toBe(DOMAIN);
    expect(await page.locator("main .empty").first().innerText()).toBe("No webhooks yet — add one below to have events posted to your server.");
    expect(await page.locator("main .empty").nth(1).innerText()).toBe(
      "No failed deliveries — every webhook post so far was accepted or is still being retried.",
    );
    // One form adds a webhook: an event type and a URL (not a URL field per type).
    expect(await page.locator('main input[type="url"]').count()).toBe(1);
    const add = async (type: string, url: string) => {
      await page.getByLabel("Event type").selectOption(type);
      await page.getByLabel("URL", { exact: true }).fill(url);
      await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: "Add webhook" }).click()]);
    };
    const clickedUrl = `${receiver.url}/hooks/clicked`;
    await add("clicked", clickedUrl);
    expect(await banner(page, "status")).toBe(`clicked: webhook to ${clickedUrl} added.`);
    expect(await page.locator("#webhooks tbody tr").count()).toBe(1);
    expect(await page.locator("#webhooks tbody tr td").nth(1).innerText()).toBe(clickedUrl);

    await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: `Send a test clicked event to ${clickedUrl}` }).click()]);
    expect(await banner(page, "status")).toBe(`Test clicked posted to ${clickedUrl}: the receiver answered 200.`);
    const post = receiver.posts.find((p) => p.path === "/hooks/clicked");
    expect(post).toBeDefined();
    const payload = JSON.parse(post!.body) as { signature: { signature: string }; "event-data": { event: string } };
    expect(payload["event-data"].event).toBe("clicked");
    expect(payload.signature.signature).toMatch(/^[0-9a-f]{64}$/);

    // A receiver that fails: its status is shown as an error.
    await add("opened", `${receiver.url}/broken`);
    expect(await page.locator("#webhooks tbody tr").count()).toBe(2);
    await page.screenshot({ path: path.join(SCREENSHOTS, "webhooks.png") });
    await Promise.all([page.waitForURL(/error=/), page.getByRole("button", { name: `Send a test opened event to ${receiver.url}/broken` }).click()]);
    expect(await banner(page, "alert")).toMatch(new RegExp(`^Test opened posted to ${receiver.url}/broken: the receiver answered 500`));
    expect(receiver.posts.filter((p) => p.path === "/broken")).toHaveLength(1);
    await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: `Remove the opened webhook to ${receiver.url}/broken` }).click()]);
    expect(await banner(page, "status")).toBe(`opened: webhook to ${receiver.url}/broken removed.`);
    expect(await page.locator("#webhooks tbody tr").count()).toBe(1);
    expect((await api(`/v3/domains/${DOMAIN}/webhooks/opened`)).status).toBe(404);

    // The signing key is shown only on request.
    await page.getByRole("link", { name: "Reveal the signing key" }).click();
    const key = ((await (await api("/v5/accounts/http_signing_key")).json()) as { http_signing_key: string }).http_signing_key;
    expect(await page.locator("#signing-key").innerText()).toBe(key);
    // Regenerating needs the confirmation box; the new key is shown and the API has it.
    const before = page.url();
    await page.getByRole("button", { name: "Regenerate" }).click();
    expect(page.url()).toBe(before);
    await page.getByRole("checkbox", { name: /^Yes, make a new key/ }).check();
    await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: "Regenerate" }).click()]);
    expect(await banner(page, "status")).toBe("A new signing key was made.");
    const renewed = ((await (await api("/v5/accounts/http_signing_key")).json()) as { http_signing_key: string }).http_signing_key;
    expect(renewed).not.toBe(key);
    expect(await page.locator("#signing-key").innerText()).toBe(renewed);
  });

  it(`Logs finds a recipient's, a Message-ID's, a subject's and a tag's events among ${BULK.events.toLocaleString("en")}, and pages on`, async () => {
    expect((await api("/v4/domains", { method: "POST", body: new URLSearchParams({ name: BULK_DOMAIN }) })).status).toBe(200);
    await page.goto(`${worker.url}/app/logs?domain=${BULK_DOMAIN}`);
    expect(await page.locator("#events tbody tr").count()).toBe(50);

    // Spread over the recipients; each has 200 events, of which the newest 50 are shown.
    for (const n of [1, 42, BULK.recipients - 1]) {
      const recipient = bulkRecipient(n);
      const field = page.getByLabel("Recipient");
      await field.fill(recipient);
      // Enter in the field submits the search, as a person does.
      await Promise.all([page.waitForURL((u) => u.searchParams.get("recipient") === recipient, { waitUntil: "commit" }), field.press("Enter")]);
      await page.locator("#events tbody tr").first().waitFor({ state: "visible" });
      const shown = await page.locator("#events tbody tr td:nth-child(3)").allInnerTexts();
      expect(shown).toHaveLength(50);
      expect(new Set(shown)).toEqual(new Set([recipient]));
    }
    // The form's other fields: Message-ID and tag are index lookups, "subject contains" a scan.
    for (const [field, value, expected] of [
      ["Message-ID", bulkMessageId(1234), 4],
      ["Subject", bulkSubject(4321), 4],
      ["Tag", "bulk", 50],
    ] as const) {
      await page.goto(`${worker.url}/app/logs?domain=${BULK_DOMAIN}`);
      await page.getByLabel(field, { exact: true }).fill(value);
      await Promise.all([page.waitForURL(/&tags=|&subject=|&message-id=/, { waitUntil: "commit" }), page.getByLabel(field, { exact: true }).press("Enter")]);
      await page.locator("#events tbody tr").first().waitFor({ state: "visible" });
      expect(await page.locator("#events tbody tr").count(), field).toBe(expected);
    }

    // Paging on: the next 50 of the same search, through the API's cursor.
    await Promise.all([page.waitForURL(/page=/), page.getByRole("link", { name: "Older →" }).click()]);
    expect(await page.locator("#events tbody tr").count()).toBe(50);
  });

  it("each page's first load transfers at most 150 KB of scripts and styles", async () => {
    const state = await context.storageState();
    const pages = [
      "/app/sign-in",
      `/app/logs?domain=${DOMAIN}&recipient=${READER}`,
      `/app/logs?domain=${BULK_DOMAIN}`,
      `/app/analytics?domain=${DOMAIN}`,
      `/app/suppressions?domain=${DOMAIN}`,
      "/app/domains",
      `/app/domains/${DOMAIN}`,
      `/app/webhooks?domain=${DOMAIN}`,
    ];
    const summary: string[] = [];
    for (const pathname of pages) {
      // A fresh context each time: an empty cache, so this is a first load.
      const fresh = await newContext(browser, { storageState: state });
      const weight = await firstLoadWeight(fresh, `${worker.url}${pathname}`);
      await fresh.close();
      summary.push(
        `${pathname.split("?")[0]} ${(weight.transferBytes / KB).toFixed(1)} KB transferred (${weight.files} file${weight.files === 1 ? "" : "s"}, ${weight.scripts} scripts; ${(weight.decodedBytes / KB).toFixed(1)} KB decoded, ${(weight.gzipBytes / KB).toFixed(1)} KB gzipped)`,
      );
      expect(weight.files, pathname).toBeGreaterThan(0);
      expect(weight.transferBytes, pathname).toBeLessThanOrEqual(MAX_ASSET_BYTES);
      expect(weight.gzipBytes, pathname).toBeLessThanOrEqual(MAX_ASSET_BYTES);
    }
    console.log(`MEASURED first-load scripts+styles per page, as transferred from the local Worker: ${summary.join("; ")}`);
  });

  it("works on a 375 px wide phone: nothing overflows sideways on any page, every text has readable contrast, and the navigation works", async () => {
    // Something to show on every page (the list was emptied above).
    const bounce = new FormData();
    bounce.append("address", "a-rather-long-address.for-a-phone-screen@subdomain.example.org");
    bounce.append("code", "550");
    bounce.append("error", "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address");
    expect((await api(`/v3/${DOMAIN}/bounces`, { method: "POST", body: bounce })).status).toBe(200);

    const phone = await newContext(browser, { width: 375, height: 740, storageState: await context.storageState() });
    const p = await phone.newPage();
    const checked: string[] = [];
    const check = async (what: string) => {
      await p.locator("main h1").waitFor();
      const { scrollWidth, culprits } = await horizontalOverflow(p);
      expect(scrollWidth, `${what}: ${culprits.join(", ")}`).toBeLessThanOrEqual(375);
      // Readable contrast (WCAG AA) for every text on the page.
      expect(await lowContrastText(p), what).toEqual([]);
      checked.push(`${what} ${scrollWidth}`);
    };
    await p.goto(`${worker.url}/app/logs?domain=${DOMAIN}&recipient=${READER}`);
    await check("logs");
    await p.locator('#events tbody tr[data-event="clicked"] summary').click();
    await check("logs with an event's JSON open");
    await Promise.all([
      p.waitForURL(/\/app\/logs\/timeline\?/),
      p.locator('#events tbody tr[data-event="clicked"]').getByRole("link", { name: "Timeline" }).click(),
    ]);
    await check("message timeline");
    await p.goBack();
    // The message sent above, as stored: headers, text, and the HTML as source.
    await Promise.all([
      p.waitForURL(/\/app\/logs\/message\?/),
      p.locator('#events tbody tr[data-event="accepted"]').first().getByRole("link", { name: "Message" }).click(),
    ]);
    await p.locator("main summary", { hasText: "Source" }).click();
    await check("stored message with its HTML source open");
    await p.goto(`${worker.url}/app/logs?domain=${BULK_DOMAIN}`);
    await check("logs (bulk)");
    for (const section of ["Analytics", "Suppressions", "Webhooks", "Domains"] as const) {
      await goToSection(p, section);
      await check(section.toLowerCase());
    }
    await Promise.all([p.waitForURL(new RegExp(`/app/domains/${DOMAIN}`)), p.getByRole("link", { name: DOMAIN }).click()]);
    await check("domain detail");
    await expectInlineControls(p, "domain page at 375 px");
    await p.goto(`${worker.url}/app/logs?domain=${DOMAIN}&range=7d`);
    await check("logs, last 7 days");
    await p.goto(`${worker.url}/app/settings?back=/app/logs`);
    await check("settings");
    await p.goto(`${worker.url}/app/suppressions?domain=${DOMAIN}`);
    await p.getByLabel(/CSV file/).setInputFiles({ name: "x.csv", mimeType: "text/csv", buffer: Buffer.from("address\nbad\n") });
    await Promise.all([p.waitForURL(/\/import/), p.getByRole("button", { name: "Import" }).click()]);
    await check("import report");
    await p.goto(`${worker.url}/app/webhooks?domain=${DOMAIN}&reveal=key`);
    await check("webhooks with the key shown");
    await phone.close();
    const signedOut = await newContext(browser, { width: 375, height: 740 });
    const q = await signedOut.newPage();
    await q.goto(`${worker.url}/app/sign-in`);
    const { scrollWidth } = await horizontalOverflow(q);
    expect(scrollWidth).toBeLessThanOrEqual(375);
    expect(await lowContrastText(q), "sign-in").toEqual([]);
    await signedOut.close();
    console.log(`MEASURED scrollWidth at a 375 px viewport: ${checked.join(", ")}, sign-in ${scrollWidth}`);
  });

  it("domains: the list with each tracking CNAME's state; choose a time zone; send a test message; add one and delete it, only once the confirmation is ticked", async () => {
    const name = "old-news.example.com";
    await goToSection(page, "Domains");
    expect(await page.locator("#domains tbody tr td.state").allInnerTexts()).toHaveLength(2);
    await page.screenshot({ path: path.join(SCREENSHOTS, "domains.png") });
    await Promise.all([page.waitForURL(new RegExp(`/app/domains/${DOMAIN}$`)), page.getByRole("link", { name: DOMAIN, exact: true }).click()]);
    await page.screenshot({ path: path.join(SCREENSHOTS, "domain.png") });

    // A time zone for every date of the panel, chosen from the header's link and kept in a cookie.
    await Promise.all([page.waitForURL(/\/app\/settings/), page.getByRole("link", { name: "UTC", exact: true }).click()]);
    await page.getByLabel("Time zone for dates").selectOption("Asia/Tokyo");
    await Promise.all([page.waitForURL(new RegExp(`/app/domains/${DOMAIN}\\?notice=`)), page.getByRole("button", { name: "Save" }).click()]);
    expect(await banner(page, "status")).toBe("Dates are shown in Asia/Tokyo.");
    await goToSection(page, "Logs");
    expect(await page.locator("#events tbody tr td:first-child").first().innerText()).toMatch(/ GMT\+9$/);
    await page.goto(`${worker.url}/app/settings`);
    await page.getByLabel("Time zone for dates").selectOption("UTC");
    await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: "Save" }).click()]);
    expect(await page.locator("#events tbody tr td:first-child").first().innerText()).toMatch(/ UTC$/);
    await goToSection(page, "Domains");

    await page.getByLabel("Domain name").fill(name);
    await page.getByLabel("Tracking prefix").fill("links");
    await Promise.all([page.waitForURL(new RegExp(`/app/domains/${name}`)), page.getByRole("button", { name: "Add domain" }).click()]);
    expect(await page.locator("#dns tbody tr").first().innerText()).toContain(`links.${name}`);
    // Send a test message: through the Messages API, then its timeline.
    await page.getByLabel("To", { exact: true }).fill("tester@example.org");
    await Promise.all([page.waitForURL(/\/app\/logs\/timeline\?/), page.getByRole("button", { name: "Send test message" }).click()]);
    expect(await banner(page, "status")).toMatch(/^Queued\. Thank you\. The test message <[^>]+> is on its way\.$/);
    await page.goBack();
    const before = page.url();
    await page.getByRole("button", { name: "Delete domain" }).click();
    expect(page.url()).toBe(before);
    expect((await api(`/v4/domains/${name}`)).status).toBe(200);
    await page.getByRole("checkbox", { name: `Yes, delete ${name} and stop tracking its links` }).check();
    await Promise.all([page.waitForURL(/\/app\/domains\?notice=/), page.getByRole("button", { name: "Delete domain" }).click()]);
    expect(await banner(page, "status")).toBe(`Domain ${name} deleted.`);
    expect(await page.locator("#domains tbody tr td:first-child").allInnerTexts()).toEqual([BULK_DOMAIN, DOMAIN]);
    expect((await api(`/v4/domains/${name}`)).status).toBe(404);
  });

  it("signs out, and the panel is closed again", async () => {
    await page.goto(`${worker.url}/app/domains`);
    await Promise.all([page.waitForURL(/\/app\/sign-in/), page.getByRole("button", { name: "Sign out" }).click()]);
    expect(await banner(page, "status")).toBe("Signed out.");
    await page.goto(`${worker.url}/app/logs`);
    expect(new URL(page.url()).pathname).toBe("/app/sign-in");
  });
});
