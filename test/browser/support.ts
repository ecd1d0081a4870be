// What the browser tests share: Debian's Chromium driven by playwright-core (never a downloaded
// browser), signing in through the form, a node:http webhook receiver, bounded waits, the page
// weight and horizontal-overflow checks.
import { createServer, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    // Without the background-networking flags Chromium keeps dialling Google's hosts, which this
    // machine's closed network refuses.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A desktop browser's user agent: the panel's visitor is a person, and so is the mail's reader. */
export const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Safari/537.36";

export async function newContext(
  browser: Browser,
  options: { width?: number; height?: number; storageState?: Awaited<ReturnType<BrowserContext["storageState"]>> } = {},
): Promise<BrowserContext> {
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
      if (box.right > width + 0.5 && !el.closest(".table-wrap, pre"))
        culprits.push(
          `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.split(" ").join(".")}` : ""} right=${Math.round(box.right)}`,
        );
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

export interface ContrastProblem {
  text: string;
  ratio: number;
  needed: number;
}

/**
 * WCAG 2 contrast of every visible piece of text against the background it is drawn on (the
 * nearest opaque background of its ancestors), below 4.5:1 (3:1 for large text). SVG text is
 * left out (its colour is `fill`), as are hidden, empty and placeholder-less controls' texts.
 */
export async function lowContrastText(page: Page): Promise<ContrastProblem[]> {
  return page.evaluate(() => {
    const parse = (value: string): [number, number, number, number] => {
      const m = /rgba?\(([^)]+)\)/.exec(value);
      if (!m) return [0, 0, 0, 0];
      const parts = m[1]!
        .split(/[ ,/]+/)
        .filter(Boolean)
        .map(Number);
      return [parts[0]!, parts[1]!, parts[2]!, parts[3] ?? 1];
    };
    const luminance = ([r, g, b]: number[]) => {
      const lin = (c: number) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
    };
    const background = (el: Element | null): number[] => {
      for (let node = el; node; node = node.parentElement) {
        const bg = parse(getComputedStyle(node).backgroundColor);
        if (bg[3] >= 0.99) return bg;
      }
      return [255, 255, 255, 1];
    };
    const problems: Array<{ text: string; ratio: number; needed: number }> = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent?.trim();
      const el = node.parentElement;
      if (!text || !el || el.closest("svg, option, script, style")) continue;
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (style.visibility !== "visible" || box.width === 0 || box.height === 0 || box.right < 0 || box.left < -100) continue;
      const fg = parse(style.color);
      const bg = background(el);
      // A translucent text colour is blended over its background.
      const blended = [0, 1, 2].map((i) => fg[i]! * fg[3] + bg[i]! * (1 - fg[3]));
      const [hi, lo] = [luminance(blended), luminance(bg)].sort((a, b) => b - a);
      const ratio = (hi! + 0.05) / (lo! + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const needed = large ? 3 : 4.5;
      if (ratio < needed) problems.push({ text: text.slice(0, 40), ratio: Math.round(ratio * 100) / 100, needed });
    }
    return problems;
  });
}
