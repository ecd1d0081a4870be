// The bindings tests see through `env` from "cloudflare:test": the Worker's (Cloudflare.Env, which
// `wrangler types` generates into worker-configuration.d.ts) plus the migrations.
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** migrations-events/, applied to every event shard. */
      TEST_EVENT_MIGRATIONS: D1Migration[];
      /** migrations-stats/, applied to every stats database. */
      TEST_STATS_MIGRATIONS: D1Migration[];
      /** migrations-keys/, applied to every key database. */
      TEST_KEYS_MIGRATIONS: D1Migration[];
      /** Empty until a test migrates it (test/integration/cron-log.test.ts). */
      CRON_TEST_DB: D1Database;
      CRON_TEST_MESSAGES: R2Bucket;
      /** Migrated by test/integration/event-shards.test.ts as a deployment from before the shards. */
      UPGRADE_TEST_DB: D1Database;
      /** An event shard written before migrations-events/0003 (lean-events.test.ts). */
      LEAN_UPGRADE_TEST_DB: D1Database;
      /** Empty event shard and control database migrated step by step (events-text-migrations.test.ts). */
      TEXT_SHARD_TEST_DB: D1Database;
      TEXT_CONTROL_TEST_DB: D1Database;
    }
  }
}

export {};
