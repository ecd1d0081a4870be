// Starts the Worker the way `npm start` does (wrangler's local runtime, fresh state in a temp dir,
// migrations applied), on a free port, for tests that talk to it over real HTTP.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { unstable_startWorker } from "wrangler";

const root = path.resolve(import.meta.dirname, "../..");
const quiet = { WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };

export interface RunningWorker {
  url: string;
  apiKey: string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago: links must name the port before the Worker starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface StartOptions {
  /**
   * Runs after the migrations and before the Worker starts, with the state directory: e.g. to seed
   * D1 with `runWrangler(["d1", "execute", "DB", "--local", "--persist-to", state, ...])`.
   */
  beforeStart?: (state: string) => void | Promise<void>;
}

/** Runs the project's wrangler CLI (quiet, non-interactive) in the project root; returns its output. */
export function runWrangler(args: string[]): string {
  return execFileSync(path.join(root, "node_modules/.bin/wrangler"), args, {
    cwd: root,
    env: { ...process.env, ...quiet, CI: "true" },
    stdio: "pipe",
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
}

/** `vars` adds or overrides plain-text settings (e.g. the Cloudflare API of the HTTPS tracking-host tests). */
export async function startWorker(vars: Record<string, string> = {}, options: StartOptions = {}): Promise<RunningWorker> {
  Object.assign(process.env, quiet);
  const state = mkdtempSync(path.join(tmpdir(), "tidings-test-"));
  execFileSync(path.join(root, "node_modules/.bin/wrangler"), ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    cwd: root,
    env: { ...process.env, CI: "true" },
    stdio: "pipe",
  });
  await options.beforeStart?.(state);
  const apiKey = "node-test-key";
  const port = await freePort();
  const worker = await unstable_startWorker({
    config: path.join(root, "wrangler.toml"),
    bindings: {
      API_KEY: { type: "plain_text", value: apiKey },
      TRACKING_SECRET: { type: "plain_text", value: "node-test-secret" },
      TRACKING_LINK_BASE: { type: "plain_text", value: `http://127.0.0.1:${port}` },
      // No DNS lookups from cron runs against the test domains; the DNS test points it at a fake.
      DNS_RESOLVER_URL: { type: "plain_text", value: "" },
      // The tests' webhook receivers are on 127.0.0.1, which the deployed default refuses.
      WEBHOOK_ALLOW_PRIVATE_URLS: { type: "plain_text", value: "true" },
      ...Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: "plain_text" as const, value }])),
    },
    dev: { server: { hostname: "127.0.0.1", port }, inspector: false, persist: state, logLevel: "warn", watch: false },
  });
  await worker.ready;
  const url = (await worker.url).origin;
  return {
    url,
    apiKey,
    async stop() {
      await worker.dispose();
      rmSync(state, { recursive: true, force: true });
    },
  };
}
