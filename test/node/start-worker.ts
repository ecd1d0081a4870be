// Starts the Worker the way `npm start` does (wrangler's local runtime, fresh state in a temp dir,
// migrations applied), on a free port, for tests that talk to it over real HTTP.
// The migrations are applied once per run (test/node/global-setup.ts makes a migrated state
// directory and hands its path over); each Worker starts on a copy of it, because wrangler's CLI
// costs seconds of CPU per call. Files that need no state of their own use the run's shared
// Worker (sharedWorker()) instead of starting one.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { unstable_startWorker } from "wrangler";

const root = path.resolve(import.meta.dirname, "../..");
const quiet = { WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };

declare module "vitest" {
  export interface ProvidedContext {
    /** A state directory with the D1 migrations applied, to copy (test/node/global-setup.ts). */
    workerStateTemplate: string;
    /** The Worker shared by the node files that need no state of their own. */
    sharedWorkerUrl: string;
    sharedWorkerApiKey: string;
  }
}

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
  /** A migrated state directory to copy; by default the run's (inject("workerStateTemplate")). */
  template?: string;
}

/**
 * Runs the project's wrangler CLI (quiet, non-interactive) in the project root; returns its output.
 * It logs at wrangler's default level whatever WRANGLER_LOG says here: its `--json` answers are
 * printed at that level (test/node/global-setup.ts lowers it for the shared Worker).
 */
export function runWrangler(args: string[]): string {
  return execFileSync(path.join(root, "node_modules/.bin/wrangler"), args, {
    cwd: root,
    env: { ...process.env, ...quiet, CI: "true", WRANGLER_LOG: "log" },
    stdio: "pipe",
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
}

/** A new temporary state directory with the D1 migrations applied. */
export function makeMigratedState(): string {
  const state = mkdtempSync(path.join(tmpdir(), "tidings-test-"));
  // The control database and every event shard (src/tools/migrate-local.mjs, as npm start does).
  execFileSync(process.execPath, [path.join(root, "src/tools/migrate-local.mjs"), "--persist-to", state], {
    cwd: root,
    env: { ...process.env, ...quiet, CI: "true" },
    stdio: "pipe",
  });
  return state;
}

/** The run's migrated template, when test/node/global-setup.ts made one (inject throws outside a test file). */
function runTemplate(): string | undefined {
  try {
    return inject("workerStateTemplate");
  } catch {
    return undefined;
  }
}

/** `vars` adds or overrides plain-text settings (e.g. the Cloudflare API of the HTTPS tracking-host tests). */
export async function startWorker(vars: Record<string, string> = {}, options: StartOptions = {}): Promise<RunningWorker> {
  Object.assign(process.env, quiet);
  const template = options.template ?? runTemplate();
  let state: string;
  if (template) {
    state = mkdtempSync(path.join(tmpdir(), "tidings-test-"));
    cpSync(template, state, { recursive: true });
  } else {
    state = makeMigratedState();
  }
  try {
    return await startOn(state, vars, options);
  } catch (error) {
    rmSync(state, { recursive: true, force: true }); // a failed start leaves no state behind
    throw error;
  }
}

async function startOn(state: string, vars: Record<string, string>, options: StartOptions): Promise<RunningWorker> {
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

/**
 * The Worker test/node/global-setup.ts started for this run, shared by the files that only touch
 * their own domain (no account-wide counts, no settings of their own): one start instead of one
 * per file. Its storage outlives the file, so a file must use names no other file uses.
 */
export function sharedWorker(): Omit<RunningWorker, "stop"> {
  return { url: inject("sharedWorkerUrl"), apiKey: inject("sharedWorkerApiKey") };
}
