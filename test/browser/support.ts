// What the browser tests share: Debian's Chromium driven by playwright-core (never a downloaded
// browser), signing in through the form, a node:http webhook receiver, bounded waits, the page
// weight and horizontal-overflow checks, and percentiles.
import { createServer, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    // Without the background-networking flags Chromium keeps dialling Google's hosts, which this
    // machine's closed network refuses.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A desktop browser's user agent: the panel's visitor is a person, and so is the mail's reader. */
export const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Safari/537.36";

export async function newContext(browser: Browser, options: { width?: number; height?: number; storageState?: Awaited<ReturnType<BrowserContext["storageState"]>> } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    userAgent: DESKTOP_UA,
    storageState: options.storageState,
  });
  // Every wait is bounded: a missing element fails the test in seconds, not at the test timeout.
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  return context;
}

/** Signs in the way a person does: the API key field has the focus, type the key, press Enter. */
export async function signIn(page: Page, base: string, apiKey: string): Promise<void> {
  await page.goto(`${base}/app`);
  await page.waitForURL(/\/app\/sign-in$/);
  const field = page.getByLabel("API key");
  await field.waitFor();
  if (!(await field.evaluate((el) => el === document.activeElement))) throw new Error("the API key field does not have the focus");
  await page.keyboard.type(apiKey);
  await Promise.all([page.waitForURL(/\/app\/logs/), page.keyboard.press("Enter")]);
}

/** The text of the page's notice (role=status) or error (role=alert) banner. */
export async function banner(page: Page, role: "status" | "alert"): Promise<string> {
  const locator = page.locator("main").getByRole(role);
  await locator.waitFor();
  return (await locator.innerText()).trim();
}

/** Polls `probe` until it returns a value (not undefined), every `intervalMs`, for at most `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 250): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** How far the page is wider than the viewport (0 when nothing overflows horizontally), and what sticks out. */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; culprits: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const culprits: string[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      const box = el.getBoundingClientRect();
      if (box.right > width + 0.5 && !el.closest(".table-wrap, pre")) culprits.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.split(" ").join(".")}` : ""} right=${Math.round(box.right)}`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, culprits: culprits.slice(0, 8) };
  });
}

export interface PageWeight {
  /** Scripts and stylesheets fetched by the page's first load. */
  files: number;
  scripts: number;
  /** Bytes on the wire as the browser saw them (headers + body as sent; Resource Timing's transferSize summed). */
  transferBytes: number;
  /** The same files' bodies gzip-compressed (level 6), what a compressing edge would send. */
  gzipBytes: number;
  /** Bytes of the decoded bodies. */
  decodedBytes: number;
}

/**
 * Loads `url` in a fresh context (empty cache: a first load) and sums what its scripts and
 * stylesheets cost, from the browser's own Resource Timing and the responses it received.
 */
export async function firstLoadWeight(context: BrowserContext, url: string): Promise<PageWeight> {
  const page = await context.newPage();
  const bodies: Array<Promise<Buffer>> = [];
  let scripts = 0;
  page.on("response", (response) => {
    const type = response.request().resourceType();
    if (type === "script") scripts++;
    if (type === "script" || type === "stylesheet") bodies.push(response.body());
  });
  await page.goto(url, { waitUntil: "load" });
  const timing = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .map((e) => e as PerformanceResourceTiming)
      .filter((e) => e.initiatorType === "link" || e.initiatorType === "script" || e.initiatorType === "css" || /\.(css|js|mjs)(\?|$)/.test(e.name))
      .map((e) => ({ name: e.name, transferSize: e.transferSize, decodedBodySize: e.decodedBodySize })),
  );
  const decoded = await Promise.all(bodies);
  await page.close();
  if (timing.length !== decoded.length) throw new Error(`resource timing saw ${timing.length} scripts/styles, responses ${decoded.length}`);
  if (timing.some((t) => t.transferSize === 0)) throw new Error(`a resource came from the cache on a first load: ${JSON.stringify(timing)}`);
  return {
    files: timing.length,
    scripts,
    transferBytes: timing.reduce((n, t) => n + t.transferSize, 0),
    decodedBytes: timing.reduce((n, t) => n + t.decodedBodySize, 0),
    gzipBytes: decoded.reduce((n, body) => n + gzipSync(body).length, 0),
  };
}

export interface Receiver {
  url: string;
  posts: Array<{ path: string; headers: Record<string, string | string[] | undefined>; body: string }>;
  close(): Promise<void>;
}

/**
 * A webhook receiver on loopback: a POST to `/broken` gets 500, any other POST 200 "thanks". A GET
 * gets a small HTML page: the landing page the tracked link of the test's mail leads to (the
 * machine has no network, so the link points here).
 */
export async function startReceiver(): Promise<Receiver> {
  const posts: Receiver["posts"] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>Landing</title><h1>Started</h1>");
        return;
      }
      posts.push({ path: req.url ?? "", headers: req.headers, body });
      if (req.url === "/broken") res.writeHead(500, { "content-type": "text/plain" }).end("receiver is down");
      else res.writeHead(200, { "content-type": "text/plain" }).end("thanks");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    posts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
