// Three projects: "workers" runs inside workerd with the real D1, Queue and Durable Object bindings
// from wrangler.toml (@cloudflare/vitest-pool-workers), migrations applied in
// test/apply-migrations.ts; "node" drives a Worker started with wrangler's unstable_startWorker
// over real HTTP, with real clients such as mailgun.js; "browser" drives the panel in Chromium.
// They run side by side: most of their time is spent waiting (queue batches, timeouts, a browser),
// not computing, so three at a time finish sooner than one even on a loaded 2-core machine.
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "..");

export default defineConfig(async () => ({
  root,
  test: {
    // Vitest's default on 2 cores is one file at a time.
    maxWorkers: 3,
    // A passing test's console output (the cron's JSON lines, expected-error lines, the local
    // runtime's queue lines) is dropped; a failing test still shows its own.
    silent: "passed-only" as const,
    projects: [
      {
        plugins: [
          cloudflareTest({
            main: path.join(root, "src/index.ts"),
            wrangler: { configPath: path.join(root, "wrangler.toml") },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")),
                TEST_EVENT_MIGRATIONS: await readD1Migrations(path.join(root, "migrations-events")),
                TEST_STATS_MIGRATIONS: await readD1Migrations(path.join(root, "migrations-stats")),
                TEST_KEYS_MIGRATIONS: await readD1Migrations(path.join(root, "migrations-keys")),
                API_KEY: "test-api-key",
                TRACKING_SECRET: "test-tracking-secret",
                TRACKING_SECRETS_PREVIOUS: "7:retired-secret",
                SHARED_HOSTS: "127.0.0.1,localhost,shared.test",
                TRACKING_LINK_BASE: "",
                CNAME_TARGET: "track.tidings.test",
                // No DNS lookups from cron runs here; the DNS tests point it at a fake resolver.
                DNS_RESOLVER_URL: "",
                // Webhook receivers in the tests are on 127.0.0.1; the URL rule's tests turn this off.
                WEBHOOK_ALLOW_PRIVATE_URLS: "true",
              },
              // An empty database and bucket of their own for the cron log test: the shared ones
              // hold other files' work, which a cron run would find.
              // UPGRADE_TEST_DB: a control database from before the event shards (event-shards.test.ts);
              // LEAN_UPGRADE_TEST_DB: an event shard from before its lean rows (lean-events.test.ts).
              // TEXT_*_TEST_DB: an event shard and a control database migrated step by step
              // (events-text-migrations.test.ts).
              d1Databases: ["CRON_TEST_DB", "UPGRADE_TEST_DB", "LEAN_UPGRADE_TEST_DB", "TEXT_SHARD_TEST_DB", "TEXT_CONTROL_TEST_DB"],
              r2Buckets: ["CRON_TEST_MESSAGES"],
            },
          }),
        ],
        test: {
          name: "workers",
          root,
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          // One workerd runs file after file (isolate: false) instead of one workerd started per
          // file: that start was most of this project's time. Storage is therefore shared across
          // files too, so every file names its own domains (uniqueDomain in test/helpers.ts).
          isolate: false,
          setupFiles: ["test/support/module-runner-once.ts", "test/apply-migrations.ts"],
          globalSetup: ["test/global-setup-quiet.ts", "test/global-setup.ts", "test/global-setup-cloudflare.ts"],
          // The bad-input suite's seed: fixed, so that a failure repeats; HOSTILE_SEED tries another.
          provide: { hostileSeed: Number(process.env.HOSTILE_SEED ?? 20261129) },
          // End-to-end tests wait for the local queue to deliver a batch (max_batch_timeout 1 s).
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "node",
          root,
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/global-setup-quiet.ts", "test/node/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The panel in Debian's Chromium (playwright-core, /usr/bin/chromium) against a Worker
        // started like "node"'s. It asserts no timings (those are in `npm run bench`), so it runs
        // beside the other projects.
        test: {
          name: "browser",
          root,
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/global-setup-quiet.ts", "test/node/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
}));
