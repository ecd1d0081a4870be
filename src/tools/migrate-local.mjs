#!/usr/bin/env node
// Applies the D1 migrations to every local database wrangler.toml binds: migrations/ to the
// control database (DB), migrations-events/ to each event shard (EV_S<slot>_<K|P><n>),
// migrations-stats/ to each stats database (STATS_<i>) and migrations-keys/ to each key database
// (KEYS_<i>), through wrangler's own local runtime (getPlatformProxy, the same state `wrangler dev` reads) and with
// wrangler's own bookkeeping table (d1_migrations), so `wrangler d1 migrations apply <binding>
// --local` agrees with it. One process for the whole ring: `wrangler d1 migrations apply` per
// database took about 1.5 s each, 96 s for 64 shards. Used by `npm start` and the Node tests.
//   node src/tools/migrate-local.mjs [--persist-to <dir>]   (the dir `wrangler dev --persist-to` takes)
// Prints one summary line; on failure, the error, and exits 1. Node-side tooling only.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { getPlatformProxy, unstable_readConfig } from "wrangler";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The ring's kinds of database besides the control one: which bindings, which migrations, what the summary calls one. */
const KINDS = [
  { kind: "shards", pattern: /^EV_S\d+_[KP]\d+$/, dir: "migrations-events", word: "event shard" },
  { kind: "stats", pattern: /^STATS_\d+$/, dir: "migrations-stats", word: "stats database" },
  { kind: "keys", pattern: /^KEYS_\d+$/, dir: "migrations-keys", word: "key database" },
];
// wrangler's table (wrangler/src/d1/migrations): the names of the migrations applied.
const TABLE = `CREATE TABLE IF NOT EXISTS d1_migrations (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`;

/** Applies the migrations a database lacks, each in one batch with its bookkeeping row, counting each in `added[kind]` as it lands. */
async function apply(db, migrations, added, kind) {
  await db.prepare(TABLE).run();
  const done = new Set((await db.prepare("SELECT name FROM d1_migrations").all()).results.map((row) => row.name));
  for (const migration of migrations) {
    if (done.has(migration.name)) continue;
    await db.batch([...migration.queries.map((query) => db.prepare(query)), db.prepare("INSERT INTO d1_migrations (name) VALUES (?1)").bind(migration.name)]);
    added[kind]++;
  }
}

/**
 * wrangler's local D1 bindings over a state directory (default .wrangler/state, where `wrangler dev`
 * keeps it): `env` by binding name, and `dispose()`. The proxy gets a config of wrangler.toml's D1
 * databases alone (the same ids, so the same local files), not the Worker's Durable Objects, which
 * it cannot run and would warn about.
 */
export async function localDatabases(persistTo = path.join(root, ".wrangler", "state")) {
  const config = unstable_readConfig({ config: path.join(root, "wrangler.toml") });
  const dir = mkdtempSync(path.join(tmpdir(), "tidings-d1-"));
  const configPath = path.join(dir, "wrangler.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      name: "tidings-local-d1",
      compatibility_date: config.compatibility_date,
      d1_databases: config.d1_databases.map(({ binding, database_name, database_id }) => ({ binding, database_name, database_id })),
    }),
  );
  const proxy = await getPlatformProxy({ configPath, persist: { path: path.join(path.resolve(persistTo), "v3") } });
  return {
    env: proxy.env,
    dispose: async () => {
      await proxy.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Databases migrated at once. All 64 at once made the local runtime fail now and then with a bare
 * "false == true" from inside wrangler's proxy while other workerd processes started (a CI run's
 * test projects); 8 lanes take the same time on 2 cores.
 */
const LANES = 8;

/** `work` over every item, at most LANES at a time; the results in the items' order. */
async function inLanes(items, work) {
  const results = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await work(items[at]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LANES, items.length) }, lane));
  return results;
}

/**
 * Applies every local database's missing migrations and returns the summary line. `added` counts
 * the migrations applied, by kind, as they land: a caller that runs this again after a failure
 * passes the same object, so the line sums what both runs applied.
 */
export async function migrateLocal(persistTo, added = { control: 0, shards: 0, stats: 0, keys: 0 }) {
  const control = await readD1Migrations(path.join(root, "migrations"));
  const proxy = await localDatabases(persistTo);
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  try {
    await apply(proxy.env.DB, control, added, "control");
    const parts = [`database: ${plural(control.length, "migration")} applied (${added.control} new)`];
    for (const { kind, pattern, dir, word } of KINDS) {
      const migrations = await readD1Migrations(path.join(root, dir));
      const names = Object.keys(proxy.env).filter((name) => pattern.test(name));
      await inLanes(names, (name) => apply(proxy.env[name], migrations, added, kind));
      parts.push(`${plural(names.length, word)}: ${plural(migrations.length, "migration")} each (${added[kind]} new)`);
    }
    return parts.join("; ");
  } finally {
    await proxy.dispose();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { "persist-to": { type: "string" } } });
  try {
    let line;
    const added = { control: 0, shards: 0, stats: 0, keys: 0 };
    try {
      line = await migrateLocal(values["persist-to"], added);
    } catch (error) {
      // Migrations are recorded one by one (a migration and its record in one batch), so a second
      // run applies only what the first did not, and the line counts both; the first failure's
      // reason is kept in one line.
      console.error(`Applying the D1 migrations failed once (${error instanceof Error ? error.message : String(error)}); trying again.`);
      line = await migrateLocal(values["persist-to"], added);
    }
    console.log(line);
  } catch (error) {
    console.error(`Applying the D1 migrations failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
