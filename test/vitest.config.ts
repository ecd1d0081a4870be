// Two projects: "workers" runs inside workerd with the real D1, Queue and Durable Object bindings
// from wrangler.toml (@cloudflare/vitest-pool-workers), migrations applied in
// test/apply-migrations.ts; "node" drives a Worker started with wrangler's unstable_startWorker
// over real HTTP, with real clients such as mailgun.js.
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "..");

export default defineConfig(async () => ({
  root,
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            main: path.join(root, "src/index.ts"),
            wrangler: { configPath: path.join(root, "wrangler.toml") },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")),
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
            },
          }),
        ],
        test: {
          name: "workers",
          root,
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          setupFiles: ["test/apply-migrations.ts"],
          globalSetup: ["test/global-setup.ts", "test/global-setup-cloudflare.ts"],
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
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The panel in Debian's Chromium (playwright-core, /usr/bin/chromium) against a Worker
        // started like "node"'s. It runs after the other projects (groupOrder), alone, because it
        // measures page weight and search times.
        test: {
          name: "browser",
          root,
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
}));
