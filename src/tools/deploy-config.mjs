// What a deploy needs, read from wrangler.toml with wrangler's own config reader: the create
// commands for every resource the production environment binds (`npm run deploy:plan`), and the
// checks `npm run deploy` runs before `wrangler deploy --env production`. Node-side tooling, run
// with tsx (it reads src/secrets.ts); not part of the Worker bundle.
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { isShardBinding, layoutOfBindings, parsePins, ShardLayoutError } from "../domain/event-shards.ts";
import { isKeysBinding, keysCountOfBindings } from "../domain/key-databases.ts";
import {
  isExtraPartitionBinding,
  PARTITIONED_QUEUES,
  partitionBinding,
  partitionCountOfBindings,
  partitionQueueName,
  QueuePartitionError,
  queueFamilyOf,
} from "../domain/queue-partitions.ts";
import { isStatsBinding, statsCountOfBindings } from "../domain/stats-shards.ts";
import { SECRETS } from "../secrets.ts";

export const PRODUCTION_ENV = "production";

/** The D1 bindings `npm run shards` writes: event shards, stats and key databases. */
const isRingBinding = (name) => isShardBinding(name) || isStatsBinding(name) || isKeysBinding(name);
/** The deploy plan's lines for all event shards at once. */
export const SHARD_CREATE = "npx wrangler d1 create tidings-events-s<slot>-k<n>";
export const SHARD_MIGRATE = "npx wrangler d1 migrations apply EV_S<slot>_K<n> --remote --env production";

/**
 * Binding kinds wrangler does not inherit into an environment, each with how to name one binding.
 * The top level and [env.production] must bind the same names of each kind.
 */
export const BINDING_KINDS = {
  vars: (config) => Object.keys(config.vars ?? {}),
  // Event shards, stats and key databases excepted: each side has its own ring and its own counts,
  // written by `npm run shards` (production's are wider), which the Worker checks are complete.
  d1_databases: (config) => (config.d1_databases ?? []).map((d) => d.binding).filter((name) => !isRingBinding(name)),
  // Partitions past the first excepted, likewise: each side has its own count (`npm run shards`),
  // which partitionProblems checks is complete.
  "queues.producers": (config) => (config.queues?.producers ?? []).map((q) => q.binding).filter((name) => !isExtraPartitionBinding(name)),
  "queues.consumers": (config) => (config.queues?.consumers ?? []).map((q) => q.queue).filter((name) => queueFamilyOf(name) === name),
  r2_buckets: (config) => (config.r2_buckets ?? []).map((b) => b.binding),
  kv_namespaces: (config) => (config.kv_namespaces ?? []).map((k) => k.binding),
  ratelimits: (config) => (config.ratelimits ?? []).map((r) => r.name),
  "durable_objects.bindings": (config) => (config.durable_objects?.bindings ?? []).map((d) => d.name),
  services: (config) => (config.services ?? []).map((s) => s.binding),
  analytics_engine_datasets: (config) => (config.analytics_engine_datasets ?? []).map((a) => a.binding),
  send_email: (config) => (config.send_email ?? []).map((s) => s.name),
  // Not a binding, but not inherited either: a constant missing in production would change its bundle.
  define: (config) => Object.keys(config.define ?? {}),
};

/**
 * Top-level keys of wrangler.toml that an environment inherits or that only the top level has;
 * any other key is a binding kind BINDING_KINDS must learn, so a new kind cannot slip past the
 * production check.
 */
const NOT_BINDINGS = new Set([
  // Inherited (wrangler 4.86's inheritable() fields).
  "assets",
  "base_dir",
  "cache",
  "compatibility_date",
  "compatibility_flags",
  "compliance_region",
  "find_additional_modules",
  "first_party_worker",
  "jsx_factory",
  "jsx_fragment",
  "keep_names",
  "limits",
  "logfwdr",
  "logpush",
  "main",
  "migrations",
  "minify",
  "no_bundle",
  "observability",
  "placement",
  "preserve_file_names",
  "preview_urls",
  "previews",
  "python_modules",
  "routes",
  "route",
  "rules",
  "triggers",
  "tsconfig",
  "upload_source_maps",
  "workers_dev",
  // Top level only, or the environments themselves.
  "$schema",
  "name",
  "account_id",
  "build",
  "alias",
  "dev",
  "env",
  "keep_vars",
  "send_metrics",
  "site",
  "legacy_env",
  "usage_model",
]);
const SECRETS_KEY = "secrets";

/**
 * Wrangler's resolved config of the top level (local runs) and of the production environment, and
 * the file's raw top level (which keys it sets).
 */
export function readDeployConfig(configPath = "wrangler.toml") {
  // Wrangler warns on every read that [secrets] is experimental; the plan's output is not the place.
  const logLevel = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = "error";
  try {
    return {
      local: unstable_readConfig({ config: configPath }),
      production: unstable_readConfig({ config: configPath, env: PRODUCTION_ENV }),
      raw: experimental_readRawConfig({ config: configPath }).rawConfig,
    };
  } finally {
    if (logLevel === undefined) delete process.env.WRANGLER_LOG;
    else process.env.WRANGLER_LOG = logLevel;
  }
}

/** Every queue the config names: producers, consumers and dead-letter queues, once each, in order. */
export function queueNames(config) {
  const names = [...(config.queues?.producers ?? []).map((q) => q.queue), ...(config.queues?.consumers ?? []).flatMap((q) => [q.queue, q.dead_letter_queue])];
  return [...new Set(names.filter(Boolean))];
}

/**
 * The commands that make a Cloudflare account ready for this config, in the order to run them:
 * resources, the database id to copy back, migrations, secrets (which also create the Worker, so
 * that its first deploy finds the required ones), the deploy.
 */
export function deployPlan(config, secrets = SECRETS) {
  const env = `--env ${PRODUCTION_ENV}`;
  const steps = [];
  const databases = (config.d1_databases ?? []).filter((db) => !isRingBinding(db.binding));
  const shards = (config.d1_databases ?? []).filter((db) => isShardBinding(db.binding));
  // The stats and key databases (docs/storage.md, "Stats databases", "Day keys databases"): few, one line each.
  const stats = (config.d1_databases ?? []).filter((db) => isStatsBinding(db.binding) || isKeysBinding(db.binding));
  for (const db of databases) {
    steps.push({
      command: `npx wrangler d1 create ${db.database_name}`,
      note: `then set database_id of [[env.${PRODUCTION_ENV}.d1_databases]] "${db.binding}" to the id it prints`,
    });
  }
  // The event shards are many (docs/storage.md, "Event shards"): one line for all, and `npm run shards` lists each.
  if (shards.length > 0) {
    steps.push({
      command: SHARD_CREATE,
      note: `for each of the ${shards.length} event shards (${shards[0].database_name} to ${shards.at(-1).database_name}); \`npm run shards -- --env ${PRODUCTION_ENV} ...\` prints every command; set each database_id it prints`,
    });
  }
  for (const db of stats) {
    steps.push({
      command: `npx wrangler d1 create ${db.database_name}`,
      note: `then set database_id of [[env.${PRODUCTION_ENV}.d1_databases]] "${db.binding}" to the id it prints`,
    });
  }
  for (const queue of queueNames(config)) steps.push({ command: `npx wrangler queues create ${queue}` });
  for (const bucket of config.r2_buckets ?? []) steps.push({ command: `npx wrangler r2 bucket create ${bucket.bucket_name}` });
  for (const kv of config.kv_namespaces ?? []) {
    steps.push({ command: `npx wrangler kv namespace create ${kv.binding} ${env}`, note: "then set its id in wrangler.toml" });
  }
  for (const db of databases) {
    steps.push({ command: `npx wrangler d1 migrations apply ${db.binding} --remote ${env}` });
  }
  if (shards.length > 0) steps.push({ command: SHARD_MIGRATE, note: `for each of the ${shards.length} event shards` });
  for (const db of stats) steps.push({ command: `npx wrangler d1 migrations apply ${db.binding} --remote ${env}` });
  for (const secret of secrets) {
    // The first sentence of what breaks without it; docs/deploy.md has the rest.
    const without = secret.without.split(/(?<=\.) /)[0];
    steps.push({ command: `npx wrangler secret put ${secret.name} ${env}`, note: secret.required ? "required" : `optional; without it: ${without}` });
  }
  steps.push({ command: "npm run deploy", note: "checks, then wrangler deploy --env production" });
  return steps;
}

/** Name of the originless record that serves as Cloudflare for SaaS's fallback origin in a zone. */
export const fallbackOriginOf = (zone) => `tidings-origin.${zone}`;

/**
 * The DNS records and zone settings the production routes and CNAME_TARGET need (docs/deploy.md,
 * "DNS"), one line each.
 */
export function dnsPlan(config) {
  const lines = [];
  for (const route of config.routes ?? []) {
    if (typeof route === "object" && route.custom_domain) {
      lines.push(`${routeHost(route)}: the API host, a Custom Domain (the deploy creates its record and certificate; no record of that name may exist)`);
    }
  }
  const cnameTarget = String(config.vars?.CNAME_TARGET ?? "");
  for (const route of config.routes ?? []) {
    const zone = typeof route === "object" ? route.zone_name : undefined;
    if (!zone || route.pattern !== "*/*") continue;
    const origin = fallbackOriginOf(zone);
    lines.push(`${origin} AAAA 100:: (proxied): the fallback origin; SSL/TLS > Custom Hostnames: enable Cloudflare for SaaS, Fallback Origin ${origin}`);
    if (cnameTarget === zone || cnameTarget.endsWith(`.${zone}`))
      lines.push(`${cnameTarget} CNAME ${origin} (proxied): CNAME_TARGET, what customers' tracking hosts point at`);
    else lines.push(`CNAME_TARGET "${cnameTarget}" is not in the zone ${zone}: customers' CNAMEs must lead into it (to ${origin})`);
  }
  return lines;
}

/** Bindings of the top level that production lacks, and the other way round; [] when they match. */
export function bindingProblems(local, production, rawTopLevel) {
  const problems = [];
  for (const [kind, namesOf] of Object.entries(BINDING_KINDS)) {
    const ours = new Set(namesOf(local));
    const theirs = new Set(namesOf(production));
    for (const name of ours) {
      if (!theirs.has(name))
        problems.push(`[env.${PRODUCTION_ENV}] lacks ${kind} "${name}" (wrangler inherits no binding into an environment: repeat it there)`);
    }
    for (const name of theirs) {
      if (!ours.has(name)) problems.push(`the top level lacks ${kind} "${name}" that [env.${PRODUCTION_ENV}] has (local runs and the tests would miss it)`);
    }
  }
  for (const key of Object.keys(rawTopLevel ?? {})) {
    const kind = key === "queues" || key === "durable_objects" || key === SECRETS_KEY ? null : key;
    if (kind && !NOT_BINDINGS.has(kind) && !Object.hasOwn(BINDING_KINDS, kind)) {
      problems.push(`wrangler.toml has "${key}", which src/tools/deploy-config.mjs does not know: add it to BINDING_KINDS (or NOT_BINDINGS)`);
    }
  }
  return problems;
}

/**
 * The partitioned queues of a config (docs/scale.md, "Queues and their partitioning"): for each,
 * producer bindings with no gap, each bound to its partition's queue and consumed, so that no
 * partition's messages wait for a consumer that is not there. A consumer with no producer is
 * allowed: a partition being dropped drains that way. [] when so.
 */
export function partitionProblems(config, label = `[env.${PRODUCTION_ENV}]`) {
  const producers = config.queues?.producers ?? [];
  const consumers = new Set((config.queues?.consumers ?? []).map((q) => q.queue));
  const problems = [];
  for (const queue of Object.keys(PARTITIONED_QUEUES)) {
    let count;
    try {
      count = partitionCountOfBindings(
        producers.map((q) => q.binding),
        queue,
      );
    } catch (error) {
      if (!(error instanceof QueuePartitionError)) throw error;
      problems.push(`${label} ${queue} queue: ${error.message}`);
      continue;
    }
    const names = Array.from({ length: count }, (_, i) => partitionQueueName(queue, i));
    for (let i = 0; i < count; i++) {
      const producer = producers.find((q) => q.binding === partitionBinding(queue, i));
      if (producer?.queue !== names[i])
        problems.push(`${label} binds ${partitionBinding(queue, i)} to "${producer?.queue}", not to ${names[i]} (run \`npm run shards\`)`);
      if (!consumers.has(names[i])) problems.push(`${label} has no consumer for ${names[i]}: its messages would never be handled (run \`npm run shards\`)`);
    }
  }
  return problems;
}

/** The production secrets wrangler.toml requires must be exactly the required ones of src/secrets.ts. */
export function secretProblems(production, secrets = SECRETS) {
  const listed = new Set(production.secrets?.required ?? []);
  const required = new Set(secrets.filter((s) => s.required).map((s) => s.name));
  const problems = [];
  for (const name of required) {
    if (!listed.has(name)) problems.push(`[env.${PRODUCTION_ENV}.secrets] required lacks ${name}, which src/secrets.ts marks required`);
  }
  for (const name of listed) {
    if (!required.has(name)) problems.push(`[env.${PRODUCTION_ENV}.secrets] requires ${name}, which src/secrets.ts does not mark required`);
  }
  return problems;
}

const PLACEHOLDER_DATABASE_ID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;
const DATABASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// RFC 2606 / RFC 6761 names: documentation and local hosts, never a deployment's.
const RESERVED_HOST = /(^|\.)(example\.(com|net|org)|example|test|invalid|localhost|local)$/i;
const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|\[?[0-9a-f:]+\]?)$/i;

/** True when a host cannot be a deployment's own: empty, a reserved name or an IP address. */
export function isPlaceholderHost(host) {
  const name = host.trim().replace(/\.$/, "");
  return name === "" || RESERVED_HOST.test(name) || IP_ADDRESS.test(name);
}

function routeHost(route) {
  const pattern = typeof route === "string" ? route : route.pattern;
  return pattern
    .replace(/^https?:\/\//, "")
    .split("/")[0]
    .replace(/^\*\.?/, "");
}

/**
 * What keeps this production config from a real deploy: placeholder database ids and hosts, an
 * API host missing from SHARED_HOSTS, private webhook URLs allowed. [] when it is ready.
 */
export function productionValueProblems(production) {
  const problems = [];
  for (const db of production.d1_databases ?? []) {
    if (!db.database_id || PLACEHOLDER_DATABASE_ID.test(db.database_id) || !DATABASE_ID.test(db.database_id)) {
      problems.push(`database_id of D1 "${db.binding}" is "${db.database_id ?? ""}": put the id \`npx wrangler d1 create ${db.database_name}\` printed`);
    }
  }
  const vars = production.vars ?? {};
  // The Worker refuses an incomplete ring on its first request; the deploy refuses it first.
  try {
    layoutOfBindings(
      (production.d1_databases ?? []).map((db) => db.binding),
      parsePins(String(vars.EVENT_SHARD_PINS ?? "")),
    );
  } catch (error) {
    if (!(error instanceof ShardLayoutError)) throw error;
    problems.push(`the event shards: ${error.message}`);
  }
  try {
    const bindings = (production.d1_databases ?? []).map((db) => db.binding);
    const stats = statsCountOfBindings(bindings);
    const { perSlot } = layoutOfBindings(bindings, parsePins(String(vars.EVENT_SHARD_PINS ?? "")));
    if (stats > 0 && perSlot % stats !== 0)
      problems.push(`the stats databases: ${perSlot} databases per slot is not a multiple of ${stats} stats databases (run \`npm run shards\`)`);
  } catch (error) {
    if (!(error instanceof ShardLayoutError)) throw error;
    if (!problems.some((problem) => problem.startsWith("the event shards"))) problems.push(`the stats databases: ${error.message}`);
  }
  try {
    keysCountOfBindings((production.d1_databases ?? []).map((db) => db.binding));
  } catch (error) {
    if (!(error instanceof ShardLayoutError)) throw error;
    problems.push(`the key databases: ${error.message}`);
  }
  const sharedHosts = String(vars.SHARED_HOSTS ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  if (sharedHosts.length === 0) problems.push("SHARED_HOSTS is empty: the API and the panel would answer nowhere");
  for (const host of sharedHosts) {
    if (isPlaceholderHost(host)) problems.push(`SHARED_HOSTS names "${host}", a placeholder or local host: name your API host`);
  }
  const cnameTarget = String(vars.CNAME_TARGET ?? "");
  if (isPlaceholderHost(cnameTarget)) problems.push(`CNAME_TARGET is "${cnameTarget}": name the host customers point their tracking CNAME at`);
  for (const route of production.routes ?? []) {
    const host = routeHost(route);
    const zone = typeof route === "object" ? route.zone_name : undefined;
    if (host && isPlaceholderHost(host)) problems.push(`route "${typeof route === "string" ? route : route.pattern}" names a placeholder host`);
    if (zone && isPlaceholderHost(zone)) problems.push(`route "${route.pattern}" is on the placeholder zone "${zone}"`);
    if (typeof route === "object" && route.custom_domain && !sharedHosts.includes(host)) {
      problems.push(`the custom domain "${host}" is not in SHARED_HOSTS: the API would not answer there`);
    }
  }
  if (String(vars.WEBHOOK_ALLOW_PRIVATE_URLS ?? "") === "true") {
    problems.push('WEBHOOK_ALLOW_PRIVATE_URLS is "true": webhooks could reach private and metadata addresses; leave it empty');
  }
  return problems;
}
