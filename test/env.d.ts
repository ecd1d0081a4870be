// The bindings tests see through `env` from "cloudflare:test": the Worker's plus the migrations.
import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** Empty until a test migrates it (test/integration/cron-log.test.ts). */
      CRON_TEST_DB: D1Database;
      CRON_TEST_MESSAGES: R2Bucket;
    }
  }
}
