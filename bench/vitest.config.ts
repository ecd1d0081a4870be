// `npm run bench`: the benchmark (not a test suite) inside workerd, with the real local D1, queue
// and Durable Object bindings. Prints its figures; asserts nothing about speed.
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

const root = path.resolve(import.meta.dirname, "..");

/**
 * Always the same order, the hot path first: the later files write a million rows into the local
 * D1, and SQLite's background work after that showed up as noise in the microsecond figures.
 */
const ORDER = ["pipeline", "hot-path-parts", "send", "smtp", "webhooks", "logs-search", "hostile", "stats", "shards", "events-scale"];
class BenchOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const i = ORDER.findIndex((name) => file.moduleId.endsWith(`/${name}.bench.ts`));
      return i < 0 ? ORDER.length : i;
    };
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

export default defineConfig(async () => ({
  root,
  plugins: [
    cloudflareTest({
      main: path.join(root, "bench/bench-worker.ts"),
      wrangler: { configPath: path.join(root, "wrangler.toml") },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")),
          TEST_EVENT_MIGRATIONS: await readD1Migrations(path.join(root, "migrations-events")),
          TEST_STATS_MIGRATIONS: await readD1Migrations(path.join(root, "migrations-stats")),
          TEST_KEYS_MIGRATIONS: await readD1Migrations(path.join(root, "migrations-keys")),
          API_KEY: "bench-api-key",
          TRACKING_SECRET: "bench-tracking-secret",
          SHARED_HOSTS: "127.0.0.1,localhost",
          TRACKING_LINK_BASE: "http://127.0.0.1",
          DNS_RESOLVER_URL: "", // no DNS lookups from cron runs
          WEBHOOK_ALLOW_PRIVATE_URLS: "true", // the webhook receiver is on 127.0.0.1
          // `TRACKING_TOKEN_FORMAT=sealed npm run bench` measures the tracking hits with sealed links.
          ...(process.env.TRACKING_TOKEN_FORMAT ? { TRACKING_TOKEN_FORMAT: process.env.TRACKING_TOKEN_FORMAT } : {}),
          // `BENCH_SCALE_BIGGEST=100000 npm run bench` runs bench/events-scale.bench.ts smaller (a million by default).
          ...(process.env.BENCH_SCALE_BIGGEST ? { BENCH_SCALE_BIGGEST: process.env.BENCH_SCALE_BIGGEST } : {}),
          // `BENCH_SHARD_FULL=200000 npm run bench` fills bench/shards.bench.ts's shard less (a million by default).
          ...(process.env.BENCH_SHARD_FULL ? { BENCH_SHARD_FULL: process.env.BENCH_SHARD_FULL } : {}),
        },
      },
    }),
  ],
  test: {
    include: ["bench/**/*.bench.ts"],
    setupFiles: ["test/apply-migrations.ts"],
    // workerd's own lines about failures caused on purpose (test/global-setup-quiet.ts) stay out of the figures.
    globalSetup: ["test/global-setup-quiet.ts", "bench/global-setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    // The Worker is deployed as one esbuild bundle. Without pre-bundling, Vitest's module runner
    // turns every call between @noble's modules into a property read on a module object, which
    // made XChaCha20-Poly1305 several times slower here than in the deployed Worker.
    deps: { optimizer: { ssr: { enabled: true, include: ["@noble/ciphers/chacha.js"] } } },
    sequence: { sequencer: BenchOrder },
  },
}));
