import { applyD1Migrations, env } from "cloudflare:test";
import { isShardBinding } from "../src/domain/event-shards";
import { isKeysBinding } from "../src/domain/key-databases";
import { isStatsBinding } from "../src/domain/stats-shards";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
// Every event shard of the ring wrangler.toml binds (its EV_S<slot>_<K|P><n> databases).
await Promise.all(
  Object.entries(env)
    .filter(([name]) => isShardBinding(name))
    .map(([, db]) => applyD1Migrations(db as D1Database, env.TEST_EVENT_MIGRATIONS)),
);
// And every stats database (STATS_<i>).
await Promise.all(
  Object.entries(env)
    .filter(([name]) => isStatsBinding(name))
    .map(([, db]) => applyD1Migrations(db as D1Database, env.TEST_STATS_MIGRATIONS)),
);
// And every key database (KEYS_<i>).
await Promise.all(
  Object.entries(env)
    .filter(([name]) => isKeysBinding(name))
    .map(([, db]) => applyD1Migrations(db as D1Database, env.TEST_KEYS_MIGRATIONS)),
);
