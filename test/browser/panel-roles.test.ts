// The panel by role in Debian's Chromium (playwright-core), as people use it: an admin makes keys
// on the Keys page and sees each secret once; a basic key's pages have no buttons or forms that
// change anything; a domain sending key cannot sign in. Locators are roles and labels.
import { existsSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "../node/start-worker";
import { banner, CHROMIUM, horizontalOverflow, launchChromium, lowContrastText, newContext, signIn } from "./support";

const DOMAIN = "roles.example.com";

let worker: RunningWorker;
let browser: Browser;
const contexts: BrowserContext[] = [];

const haveChromium = existsSync(CHROMIUM) || !!process.env.CI;
if (!haveChromium) console.warn(`SKIPPED the panel-by-role browser tests: ${CHROMIUM} is missing. Install it with: sudo apt-get install -y chromium`);

async function freshPage(): Promise<Page> {
  const context = await newContext(browser);
  contexts.push(context);
  return context.newPage();
}

/** Makes a key on the Keys page and returns the secret the page shows. */
async function makeKey(page: Page, role: string, description: string, domain?: string): Promise<string> {
  await page.goto(`${worker.url}/app/keys`);
  await page.getByRole("combobox", { name: /^Role\b/ }).selectOption(role);
  if (domain) await page.getByRole("combobox", { name: /^Domain \(sending keys only\)/ }).selectOption(domain);
  await page.getByLabel("Description").fill(description);
  await page.getByRole("button", { name: "Make key" }).click();
  expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe("Key made");
  expect(await banner(page, "status")).toContain(`A ${role} key`);
  return (await page.locator("#new-key-secret").innerText()).trim();
}

beforeAll(async () => {
  if (!haveChromium) return;
  worker = await startWorker();
  const created = await fetch(`${worker.url}/v4/domains`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`api:${worker.apiKey}`)}` },
    body: new URLSearchParams({ name: DOMAIN }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(created.status).toBe(200);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await worker?.stop();
});

describe.runIf(haveChromium)("the panel by role in Chromium", () => {
  let basicSecret = "";
  let sendingSecret = "";

  it("lets an admin make keys on the Keys page and shows each secret once", async () => {
    const admin = await freshPage();
    await signIn(admin, worker.url, worker.apiKey);
    await Promise.all([admin.waitForURL(/\/app\/keys$/), admin.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Keys" }).click()]);
    expect(await admin.locator("main .empty").innerText()).toContain("No keys yet");

    basicSecret = await makeKey(admin, "basic", "dashboard reader");
    expect(basicSecret).toMatch(/^[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}$/);
    sendingSecret = await makeKey(admin, "sending", "shop", DOMAIN);

    await Promise.all([admin.waitForURL(/\/app\/keys$/), admin.getByRole("link", { name: "Back to the keys" }).click()]);
    const rows = admin.locator("#keys tbody tr");
    // The secret's page is on /app/keys too: wait for the list itself, not only the URL.
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    const listed = await admin.locator("main").innerText();
    expect(listed).toContain("dashboard reader");
    expect(listed).toContain(`sending for ${DOMAIN}`);
    // Never again: not on the list, not in the page's source.
    const source = await admin.content();
    expect(source).not.toContain(basicSecret);
    expect(source).not.toContain(sendingSecret);
    expect(source).toContain(basicSecret.slice(-17)); // the id, which is public

    // Within the panel's styles on a phone, as the other pages: nothing sideways, readable text.
    await admin.setViewportSize({ width: 375, height: 800 });
    await admin.goto(`${worker.url}/app/keys`);
    const overflow = await horizontalOverflow(admin);
    expect(overflow.culprits).toEqual([]);
    expect(overflow.scrollWidth).toBeLessThanOrEqual(375);
    expect(await lowContrastText(admin)).toEqual([]);
  });

  it("shows a basic key no button or form that changes anything, and no Webhooks or Keys", async () => {
    const reader = await freshPage();
    await signIn(reader, worker.url, basicSecret);
    expect(await reader.locator("#signed-in-role").innerText()).toBe("basic key");
    const nav = reader.getByRole("navigation", { name: "Sections" });
    expect(await nav.getByRole("link").allInnerTexts()).toEqual(["Logs", "Analytics", "Suppressions", "Domains"]);
    for (const path of ["/app/logs", "/app/analytics", `/app/suppressions?domain=${DOMAIN}`, "/app/domains", `/app/domains/${DOMAIN}`]) {
      await reader.goto(`${worker.url}${path}`);
      expect(await reader.locator('main form[method="post"]').count(), path).toBe(0);
      for (const name of ["Add domain", "Check DNS", "Save tracking", "Delete domain", "Add", "Import", "Delete all", "Save", "Send test message"]) {
        expect(await reader.getByRole("button", { name, exact: true }).count(), `${path}: ${name}`).toBe(0);
      }
    }
    await reader.goto(`${worker.url}/app/domains/${DOMAIN}`);
    expect(await reader.locator("#tracking-settings").innerText()).toContain("Opens: off");
    const refused = await reader.goto(`${worker.url}/app/keys`);
    expect(refused?.status()).toBe(403);
    expect(await banner(reader, "alert")).toBe("This needs an admin key; you signed in with a basic key.");
  });

  it("does not let a domain sending key sign in", async () => {
    const sender = await freshPage();
    await sender.goto(`${worker.url}/app/sign-in`);
    await sender.getByLabel("API key").fill(sendingSecret);
    await Promise.all([sender.waitForURL(/\/app\/sign-in\?error=/), sender.getByRole("button", { name: "Sign in" }).click()]);
    expect(await banner(sender, "alert")).toBe("A domain sending key only sends mail: sign in with an admin, developer or basic key.");
    await sender.goto(`${worker.url}/app/logs`);
    expect(new URL(sender.url()).pathname).toBe("/app/sign-in");
  });
});
