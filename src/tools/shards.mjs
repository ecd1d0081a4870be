#!/usr/bin/env node
// `npm run shards -- --slots S --per-slot K [--stats N] [--keys M] [--pin domain ...] [--env production]`
// `npm run shards -- --event-queues P --webhook-queues Q [--env production]` (either form, or both):
// writes the event shards' D1 bindings (EV_S<slot>_K<k>, EV_S<slot>_P<pin>), the stats
// databases' (STATS_<i>, docs/storage.md "Stats databases") and the key databases' (KEYS_<i>,
// docs/storage.md "Day keys databases") into wrangler.toml from one setting,
// between markers, for the top level (local runs and tests) or an environment, sets
// EVENT_SHARD_PINS to match, and prints the `wrangler d1 create` command of every database that
// has no id yet. The Worker records the new ring in its directory, in force two days later
// (docs/storage.md, "Event shards"). The queue flags write the producers and consumers of the
// partitioned events and webhooks queues (src/tools/queue-partitions.mjs, docs/scale.md "Queues and
// their partitioning") and print the `wrangler queues create` command of each new one; a flag left
// out keeps what the file has. Fewer partitions keep the dropped ones' consumers until they have
// drained (rerun with --force to drop them). `--check` only says whether the file already matches.
// Node-side tooling: not part of the Worker bundle.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { MAX_QUEUE_PARTITIONS, partitionBlock, partitionCountsOf, partitionQueueNames, queueMarkers } from "./queue-partitions.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The ring must outlast the longest retention (src/domain/event-shards.ts, MIN_RING_SLOTS). */
const MIN_RING_SLOTS = 32;
const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";

const { values } = parseArgs({
  options: {
    slots: { type: "string" },
    "per-slot": { type: "string" },
    // Stats databases; default: as many as the file has, or K.
    stats: { type: "string" },
    // Key databases (the day keys); default: as many as the file has, or the stats databases'. 0: in the stats databases.
    keys: { type: "string" },
    pin: { type: "string", multiple: true, default: [] },
    // Partitions of tidings-events and tidings-webhooks; default: as many as the file has.
    "event-queues": { type: "string" },
    "webhook-queues": { type: "string" },
    env: { type: "string" },
    force: { type: "boolean", default: false },
    check: { type: "boolean", default: false },
    // Another wrangler.toml (the tests run the script on a copy).
    config: { type: "string", default: path.join(root, "wrangler.toml") },
  },
});
const file = path.resolve(values.config);

function fail(message) {
  console.error(`npm run shards: ${message}`);
  process.exit(1);
}

const env = values.env ?? "";
const prefix = env ? `env.${env}.` : "";
const ringAsked = values.slots !== undefined || values["per-slot"] !== undefined;
const queuesAsked = values["event-queues"] !== undefined || values["webhook-queues"] !== undefined;
if (!ringAsked && !queuesAsked) fail("say what to write: --slots S --per-slot K (the ring), --event-queues P / --webhook-queues Q (the queues), or both");

/** The ring's block written into `text`, and what to print after writing it. */
function writeRing(text) {
  const slots = Number(values.slots);
  const perSlot = Number(values["per-slot"]);
  if (!Number.isInteger(slots) || slots < MIN_RING_SLOTS)
    fail(`--slots must be a whole number of at least ${MIN_RING_SLOTS} (the longest retention, 30 days, + 2)`);
  if (!Number.isInteger(perSlot) || perSlot < 1 || perSlot > 64) fail("--per-slot must be a whole number from 1 to 64");
  const pins = values.pin.map((pin) => pin.trim().toLowerCase());
  if (new Set(pins).size !== pins.length || pins.some((pin) => !/^[a-z0-9.-]+$/.test(pin))) fail("--pin takes distinct domain names");
  const begin = `# >>> event shards${env ? ` (${env})` : ""}: written by \`npm run shards\`; change them with it, not by hand`;
  const end = `# <<< event shards${env ? ` (${env})` : ""}`;

  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) fail(`wrangler.toml has no "${begin}" ... "${end}" block`);
  const current = text.slice(from, to);

  /** The ids already in the block, by binding: rerunning the script keeps every created database's id. */
  const ids = new Map();
  for (const match of current.matchAll(/binding = "(EV_S\d+_[KP]\d+|STATS_\d+|KEYS_\d+)"\n[^\n]*\ndatabase_id = "([^"]+)"/g)) ids.set(match[1], match[2]);
  const had = { slots: 0, perSlot: 0 };
  for (const name of [...ids.keys()].filter((key) => key.startsWith("EV_"))) {
    const [, slot, kind, index] = /^EV_S(\d+)_([KP])(\d+)$/.exec(name);
    had.slots = Math.max(had.slots, Number(slot) + 1);
    if (kind === "K") had.perSlot = Math.max(had.perSlot, Number(index) + 1);
  }
  if (!values.force && (slots < had.slots || perSlot < had.perSlot))
    fail(
      `the ring shrinks (${had.slots} x ${had.perSlot} to ${slots} x ${perSlot}): days already written to the databases it drops would become unreadable. Wait until the layout that uses them is older than 30 days, then rerun with --force.`,
    );

  const hadStats = [...ids.keys()].filter((name) => name.startsWith("STATS_")).length;
  const stats = values.stats === undefined ? hadStats || perSlot : Number(values.stats);
  if (!Number.isInteger(stats) || stats < 1 || stats > 64) fail("--stats must be a whole number from 1 to 64");
  if (perSlot % stats !== 0) fail(`--per-slot (${perSlot}) must be a multiple of --stats (${stats}), so that each event shard feeds one stats database`);
  if (!values.force && hadStats > 0 && stats !== hadStats)
    fail(
      `the stats databases go from ${hadStats} to ${stats}: every domain's stats would move to another database and its history would not follow. Rerun with --force only on a deployment with no stats worth keeping.`,
    );
  const hadKeys = [...ids.keys()].filter((name) => name.startsWith("KEYS_")).length;
  const keys = values.keys === undefined ? hadKeys || stats : Number(values.keys);
  if (!Number.isInteger(keys) || keys < 0 || keys > 64) fail("--keys must be a whole number from 0 to 64");
  const shards = [];
  for (let slot = 0; slot < slots; slot++) {
    for (let k = 0; k < perSlot; k++) shards.push({ binding: `EV_S${slot}_K${k}`, name: `tidings-events-s${slot}-k${k}` });
    pins.forEach((_, p) => shards.push({ binding: `EV_S${slot}_P${p}`, name: `tidings-events-s${slot}-p${p}` }));
  }
  const statsDatabases = Array.from({ length: stats }, (_, i) => ({ binding: `STATS_${i}`, name: `tidings-stats-${i}` }));
  const keyDatabases = Array.from({ length: keys }, (_, i) => ({ binding: `KEYS_${i}`, name: `tidings-keys-${i}` }));
  /** Local ids only have to differ (wrangler keeps a local database per id); deployed ones come from `wrangler d1 create`. */
  const localId = (i, group = "8000") => `00000000-0000-4000-${group}-${(i + 1).toString(16).padStart(12, "0")}`;
  const entry = (db, id, dir) =>
    [`[[${prefix}d1_databases]]`, `binding = "${db.binding}"`, `database_name = "${db.name}"`, `database_id = "${id}"`, `migrations_dir = "${dir}"`, ""].join(
      "\n",
    );
  const block = [
    begin,
    `# ${slots} day slots x ${perSlot} databases${pins.length ? ` + ${pins.length} pinned (${pins.join(", ")})` : ""} = ${shards.length} event shards.`,
    ...shards.map((shard, i) => entry(shard, ids.get(shard.binding) ?? (env ? PLACEHOLDER_ID : localId(i)), "migrations-events")),
    `# ${stats} stats databases: each domain's rollups in STATS_<hash % ${stats}>.`,
    ...statsDatabases.map((db, i) => entry(db, ids.get(db.binding) ?? (env ? PLACEHOLDER_ID : localId(i, "9000")), "migrations-stats")),
    keys > 0 ? `# ${keys} key databases: each domain's day keys in KEYS_<hash % ${keys}>.` : "# No key databases: the day keys are in the stats databases.",
    ...keyDatabases.map((db, i) => entry(db, ids.get(db.binding) ?? (env ? PLACEHOLDER_ID : localId(i, "a000")), "migrations-keys")),
    "",
  ].join("\n");

  let next = text.slice(0, from) + block + text.slice(to);
  // EVENT_SHARD_PINS of the same table as the block ([vars] or [env.<env>.vars]).
  const varsHeader = `[${prefix}vars]`;
  const varsAt = next.indexOf(`\n${varsHeader}\n`);
  if (varsAt < 0) fail(`wrangler.toml has no ${varsHeader}`);
  const pinLine = /\nEVENT_SHARD_PINS = "[^"]*"\n/;
  const tableEnd = next.indexOf("\n[", varsAt + varsHeader.length + 2);
  const table = next.slice(varsAt, tableEnd);
  if (!pinLine.test(table)) fail(`${varsHeader} has no EVENT_SHARD_PINS line`);
  next = next.slice(0, varsAt) + table.replace(pinLine, `\nEVENT_SHARD_PINS = "${pins.join(",")}"\n`) + next.slice(tableEnd);
  const report = () => {
    console.log(
      `wrangler.toml: ${shards.length} event shards${env ? ` in [env.${env}]` : ""} (${slots} slots x ${perSlot}${pins.length ? ` + ${pins.length} pinned` : ""}), ${stats} stats databases and ${keys} key databases.`,
    );
    if (keys !== hadKeys && ids.size > 0)
      console.log(
        `The day keys move (${hadKeys} key databases to ${keys}): for two days after the deploy, pages read every day of the ring instead of skipping the days the keys rule out (docs/storage.md, "Day keys databases"). Nothing is lost.`,
      );
    const missing = [...shards, ...statsDatabases, ...keyDatabases].filter((db) => env && (ids.get(db.binding) ?? PLACEHOLDER_ID) === PLACEHOLDER_ID);
    if (missing.length > 0) {
      console.log(`Create these ${missing.length} databases, put each id it prints into its database_id in wrangler.toml, then apply the migrations:`);
      for (const shard of missing) console.log(`  npx wrangler d1 create ${shard.name}`);
      console.log(`  for b in ${missing.map((db) => db.binding).join(" ")}; do npx wrangler d1 migrations apply "$b" --remote --env ${env}; done`);
    }
  };
  return {
    next,
    report,
    summary: `${shards.length} event shards, ${stats} stats databases and ${keys} key databases`,
    mismatch: `event shards${env ? ` (${env})` : ""} are not ${slots} x ${perSlot} with ${stats} stats databases and ${keys} key databases`,
  };
}

/** The partitioned queues' block written into `text`, and what to print after writing it. */
function writeQueues(text) {
  const { begin, end } = queueMarkers(env);
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) fail(`wrangler.toml has no "${begin}" ... "${end}" block`);
  const had = partitionCountsOf(text.slice(from, to));
  const counts = {};
  // Consumers kept for partitions being dropped, so that what is still on them is consumed.
  const consumed = {};
  const draining = [];
  for (const [key, flag] of [
    ["events", "event-queues"],
    ["webhooks", "webhook-queues"],
  ]) {
    const count = values[flag] === undefined ? had.producers[key] : Number(values[flag]);
    if (!Number.isInteger(count) || count < 1 || count > MAX_QUEUE_PARTITIONS) fail(`--${flag} must be a whole number from 1 to ${MAX_QUEUE_PARTITIONS}`);
    counts[key] = count;
    // Shrinking drops the producers at once and the consumers only with --force, once their queues are empty.
    consumed[key] = values.force ? count : Math.max(count, had.consumers[key]);
    draining.push(...partitionQueueNames(consumed)[key].slice(count));
  }
  const next = text.slice(0, from) + partitionBlock(env, counts, consumed) + text.slice(to + end.length);
  const report = () => {
    console.log(`wrangler.toml: tidings-events in ${counts.events} partitions and tidings-webhooks in ${counts.webhooks}${env ? ` in [env.${env}]` : ""}.`);
    const before = partitionQueueNames(had.consumers);
    const created = Object.entries(partitionQueueNames(counts)).flatMap(([key, names]) => names.filter((name) => !before[key].includes(name)));
    if (env && created.length > 0) {
      console.log(`Create these ${created.length} queues before the next deploy:`);
      for (const name of created) console.log(`  npx wrangler queues create ${name}`);
    }
    if (draining.length > 0) {
      console.log(`Draining (consumed, no longer produced to): ${draining.join(", ")}. Deploy; once \`npx wrangler queues info <name>\` shows each empty,`);
      console.log(`rerun with --force to drop their consumers, deploy, then \`npx wrangler queues delete\` them.`);
    }
  };
  return {
    next,
    report,
    summary: `tidings-events in ${counts.events} partitions and tidings-webhooks in ${counts.webhooks}`,
    mismatch: `queues${env ? ` (${env})` : ""} are not ${counts.events} events and ${counts.webhooks} webhooks partitions`,
  };
}

const text = readFileSync(file, "utf8");
const steps = [];
let next = text;
for (const [asked, write] of [
  [ringAsked, writeRing],
  [queuesAsked, writeQueues],
]) {
  if (!asked) continue;
  const step = write(next);
  steps.push(step);
  next = step.next;
}

if (values.check) {
  if (next !== text) fail(`wrangler.toml's ${steps.map((step) => step.mismatch).join(" or ")}: run npm run shards`);
  console.log(`wrangler.toml: ${steps.map((step) => step.summary).join("; ")}${env ? ` (${env})` : ""}, as asked`);
  process.exit(0);
}
writeFileSync(file, next);
for (const step of steps) step.report();
console.log("Then `npm run cf-typegen`." + (ringAsked ? " The Worker starts using the new ring two days after it first runs with it." : ""));
