// `npm run deploy:plan` and `npm run deploy` against wrangler.toml itself: the plan creates every
// queue, database and bucket the file names anywhere, production binds everything the top level
// does (wrangler inherits no binding into an environment), the required secrets match
// src/secrets.ts, and a deploy is refused while placeholders remain.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Unstable_Config } from "wrangler";
import { SECRETS } from "../../src/secrets";
import {
  BINDING_KINDS,
  bindingProblems,
  deployPlan,
  dnsPlan,
  isPlaceholderHost,
  partitionProblems,
  productionValueProblems,
  readDeployConfig,
  SHARD_CREATE,
  secretProblems,
} from "../../src/tools/deploy-config.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const { local, production, raw } = readDeployConfig(path.join(root, "wrangler.toml"));
const commands = deployPlan(production).map((step) => step.command);

/** Every value of the given keys anywhere in the parsed TOML: top level, every environment, every table. */
function valuesOf(node: unknown, keys: string[], found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) valuesOf(item, keys, found);
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (keys.includes(key) && typeof value === "string") found.add(value);
      else valuesOf(value, keys, found);
    }
  }
  return found;
}

/** Production with a ready account's values instead of the shipped placeholders. */
function filledProduction(): Unstable_Config {
  const config = structuredClone(production);
  config.d1_databases = config.d1_databases.map((db) => ({ ...db, database_id: "3f1c2a9e-5b7d-4e21-9c0a-7d2e4b8f6a13" }));
  config.vars = { ...config.vars, SHARED_HOSTS: "api.tidings-mail.net", CNAME_TARGET: "track.tidings-mail.net" };
  config.routes = [
    { pattern: "api.tidings-mail.net", custom_domain: true },
    { pattern: "*/*", zone_name: "tidings-mail.net" },
  ];
  return config;
}

describe("npm run deploy:plan", () => {
  it("creates every queue and dead-letter queue, database and bucket wrangler.toml names anywhere", () => {
    const queues = valuesOf(raw, ["queue", "dead_letter_queue"]);
    expect(queues).toContain("tidings-webhooks");
    for (const queue of queues) expect(commands).toContain(`npx wrangler queues create ${queue}`);
    const databases = valuesOf(raw, ["database_name"]);
    expect(databases.size).toBeGreaterThan(0);
    for (const db of databases) {
      // The event shards' databases share one line (npm run shards prints each).
      if (/^tidings-events-s\d+-[kp]\d+$/.test(db)) expect(commands).toContain(SHARD_CREATE);
      else expect(commands).toContain(`npx wrangler d1 create ${db}`);
    }
    const buckets = valuesOf(raw, ["bucket_name"]);
    expect(buckets.size).toBeGreaterThan(0);
    for (const bucket of buckets) expect(commands).toContain(`npx wrangler r2 bucket create ${bucket}`);
  });

  it("applies the migrations and sets every secret of src/secrets.ts, before the deploy", () => {
    expect(commands).toContain("npx wrangler d1 migrations apply DB --remote --env production");
    for (const secret of SECRETS) expect(commands).toContain(`npx wrangler secret put ${secret.name} --env production`);
    // Secrets before the deploy: wrangler refuses to create a Worker whose required secrets are unset.
    const firstSecret = commands.findIndex((c) => c.startsWith("npx wrangler secret put"));
    expect(firstSecret).toBeGreaterThan(commands.indexOf("npx wrangler d1 migrations apply DB --remote --env production"));
    expect(commands.at(-1)).toBe("npm run deploy");
  });

  it("names the DNS records the routes need: the API's Custom Domain, the fallback origin, the CNAME target", () => {
    expect(dnsPlan(filledProduction())).toEqual([
      expect.stringMatching(/^api\.tidings-mail\.net: the API host, a Custom Domain/),
      expect.stringMatching(/^tidings-origin\.tidings-mail\.net AAAA 100:: \(proxied\): the fallback origin/),
      expect.stringMatching(/^track\.tidings-mail\.net CNAME tidings-origin\.tidings-mail\.net \(proxied\)/),
    ]);
    const elsewhere = filledProduction();
    elsewhere.vars = { ...elsewhere.vars, CNAME_TARGET: "track.other-zone.net" };
    expect(dnsPlan(elsewhere).at(-1)).toContain('CNAME_TARGET "track.other-zone.net" is not in the zone tidings-mail.net');
  });

  it("prints the plan and exits 0 on the repository's wrangler.toml", () => {
    const result = spawnSync(path.join(root, "node_modules/.bin/tsx"), ["src/tools/deploy-plan.mjs"], { cwd: root, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("npx wrangler queues create tidings-webhooks\n");
    expect(result.stdout).toContain("Still to fill in wrangler.toml [env.production]");
  });
});

describe("docs/deploy.md", () => {
  const guide = readFileSync(path.join(root, "docs/deploy.md"), "utf8");

  it("shows every command of the plan and every secret, with what breaks without it", () => {
    for (const command of commands) expect(guide).toContain(command);
    for (const secret of SECRETS) {
      const row = guide.split("\n").find((line) => line.startsWith(`| \`${secret.name}\` |`));
      expect(row, secret.name).toBeDefined();
      expect(row).toContain(secret.required ? "| yes |" : "| no |");
    }
  });
});

describe("production environment", () => {
  it("binds every binding, var and queue consumer the top level has, and no other", () => {
    expect(bindingProblems(local, production, raw)).toEqual([]);
  });

  it("names each binding production lacks", () => {
    let cases = 0;
    for (const [kind, namesOf] of Object.entries(BINDING_KINDS)) {
      for (const name of namesOf(local)) {
        const trimmed = structuredClone(production);
        if (kind === "vars") delete (trimmed.vars as Record<string, unknown>)[name];
        else if (kind === "queues.producers") trimmed.queues.producers = trimmed.queues.producers?.filter((q) => q.binding !== name);
        else if (kind === "queues.consumers") trimmed.queues.consumers = trimmed.queues.consumers?.filter((q) => q.queue !== name);
        else if (kind === "durable_objects.bindings") trimmed.durable_objects.bindings = trimmed.durable_objects.bindings.filter((d) => d.name !== name);
        else if (kind === "ratelimits") trimmed.ratelimits = trimmed.ratelimits.filter((r) => r.name !== name);
        else {
          const list = trimmed[kind as "d1_databases" | "r2_buckets"] as { binding: string }[];
          (trimmed as unknown as Record<string, unknown>)[kind] = list.filter((b) => b.binding !== name);
        }
        expect(bindingProblems(local, trimmed, raw), `${kind} ${name}`).toEqual([expect.stringContaining(`lacks ${kind} "${name}"`)]);
        cases++;
      }
    }
    // Every var, the database, 5 producers, 5 consumers, the bucket, the rate limit, the Durable Object
    // (the event shards are each side's own ring, left out).
    expect(cases).toBe(Object.keys(local.vars).length + 14);
  });

  it("refuses a binding kind the check does not know, so a new kind cannot slip past it", () => {
    const withNewKind = { ...raw, hyperdrive: [{ binding: "HYPERDRIVE", id: "x" }] };
    expect(bindingProblems(local, production, withNewKind)).toEqual([expect.stringContaining('"hyperdrive"')]);
  });

  it("requires exactly the secrets src/secrets.ts marks required", () => {
    expect(secretProblems(production)).toEqual([]);
    const required = SECRETS.filter((s) => s.required).map((s) => s.name);
    expect(production.secrets?.required).toEqual(required);
    const missing = structuredClone(production);
    missing.secrets = { required: required.slice(1) };
    expect(secretProblems(missing)).toEqual([expect.stringContaining(`lacks ${required[0]}`)]);
    const extra = structuredClone(production);
    extra.secrets = { required: [...required, "SMTP_RELAY_PASSWORD"] };
    expect(secretProblems(extra)).toEqual([expect.stringContaining("requires SMTP_RELAY_PASSWORD")]);
  });

  it("holds placeholders a deploy refuses, and nothing else once they are filled in", () => {
    const problems = productionValueProblems(production);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("database_id"),
        expect.stringContaining('SHARED_HOSTS names "api.example.net"'),
        expect.stringContaining("CNAME_TARGET"),
      ]),
    );
    expect(productionValueProblems(filledProduction())).toEqual([]);
  });

  it("refuses empty hosts, an API host missing from SHARED_HOSTS, and private webhook URLs", () => {
    const empty = filledProduction();
    empty.vars = { ...empty.vars, SHARED_HOSTS: "", CNAME_TARGET: "" };
    expect(productionValueProblems(empty)).toEqual([
      expect.stringContaining("SHARED_HOSTS is empty"),
      expect.stringContaining("CNAME_TARGET"),
      expect.stringContaining('custom domain "api.tidings-mail.net" is not in SHARED_HOSTS'),
    ]);
    const open = filledProduction();
    open.vars = { ...open.vars, WEBHOOK_ALLOW_PRIVATE_URLS: "true" };
    expect(productionValueProblems(open)).toEqual([expect.stringContaining("WEBHOOK_ALLOW_PRIVATE_URLS")]);
    for (const host of ["", "localhost", "127.0.0.1", "api.example.com", "x.test", "tidings.invalid", "[::1]"])
      expect(isPlaceholderHost(host), host).toBe(true);
    for (const host of ["api.tidings-mail.net", "example.net.au", "notexample.com"]) expect(isPlaceholderHost(host), host).toBe(false);
  });
});

describe("the event shards", () => {
  it("refuses a production ring with a database missing, or pins the bindings do not have", () => {
    const holed = filledProduction();
    holed.d1_databases = holed.d1_databases.filter((db) => db.binding !== "EV_S9_K3");
    expect(productionValueProblems(holed)).toEqual([expect.stringContaining("EV_S9_K3 is missing")]);
    const pinned = filledProduction();
    pinned.vars = { ...pinned.vars, EVENT_SHARD_PINS: "big.example.org" };
    expect(productionValueProblems(pinned)).toEqual([expect.stringContaining("EVENT_SHARD_PINS names 1 domains")]);
  });

  it("npm run shards writes a ring into wrangler.toml, keeps the ids of databases already made, and refuses to shrink it", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "tidings-shards-"));
    const config = path.join(dir, "wrangler.toml");
    try {
      cpSync(path.join(root, "wrangler.toml"), config);
      const shards = (...args: string[]) =>
        spawnSync(process.execPath, [path.join(root, "src/tools/shards.mjs"), "--config", config, ...args], { cwd: root, encoding: "utf8" });
      // The shipped file is what its own setting writes.
      expect(shards("--slots", "32", "--per-slot", "2", "--check").status).toBe(0);
      expect(shards("--env", "production", "--slots", "32", "--per-slot", "4", "--check").status).toBe(0);
      // Production gets a pinned domain and an id for one database; a rerun keeps that id.
      const grown = shards("--env", "production", "--slots", "32", "--per-slot", "4", "--pin", "big.example.org");
      expect(grown.status).toBe(0);
      expect(grown.stdout).toContain("npx wrangler d1 create tidings-events-s31-p0");
      const id = "3f1c2a9e-5b7d-4e21-9c0a-7d2e4b8f6a13";
      writeFileSync(
        config,
        readFileSync(config, "utf8").replace(/(binding = "EV_S5_P0"\ndatabase_name = "tidings-events-s5-p0"\ndatabase_id = )"[^"]+"/, `$1"${id}"`),
      );
      expect(shards("--env", "production", "--slots", "32", "--per-slot", "4", "--pin", "big.example.org").status).toBe(0);
      const { production: written } = readDeployConfig(config);
      const bindings = written.d1_databases.map((db) => db.binding);
      expect(bindings.filter((name) => /^EV_S/.test(name))).toHaveLength(32 * 5);
      expect(written.d1_databases.find((db) => db.binding === "EV_S5_P0")?.database_id).toBe(id);
      expect(written.vars.EVENT_SHARD_PINS).toBe("big.example.org");
      const filled = { ...written, d1_databases: written.d1_databases.map((db) => ({ ...db, database_id: id })) };
      expect(productionValueProblems(filled).filter((p) => p.includes("event shards"))).toEqual([]);
      // Fewer databases would orphan days already written to them.
      const shrink = shards("--env", "production", "--slots", "32", "--per-slot", "2");
      expect(shrink.status).toBe(1);
      expect(shrink.stderr).toContain("the ring shrinks");
      expect(shards("--slots", "31", "--per-slot", "2").status).toBe(1);
      // Stats databases: each event shard feeds one, and their count never changes under a deployment's stats.
      const misaligned = shards("--env", "production", "--slots", "32", "--per-slot", "6", "--pin", "big.example.org");
      expect(misaligned.status).toBe(1);
      expect(misaligned.stderr).toContain("must be a multiple of --stats (4)");
      const moved = shards("--env", "production", "--slots", "32", "--per-slot", "4", "--stats", "2", "--pin", "big.example.org");
      expect(moved.status).toBe(1);
      expect(moved.stderr).toContain("the stats databases go from 4 to 2");
      expect(shards("--env", "production", "--slots", "32", "--per-slot", "8", "--pin", "big.example.org").status).toBe(0);
      expect(readFileSync(config, "utf8")).toMatch(/\[\[env\.production\.d1_databases\]\]\nbinding = "STATS_3"\ndatabase_name = "tidings-stats-3"/);
      // Key databases: as many as the file has by default; another count moves the keys (nothing lost, said so).
      const keyBindings = () =>
        readDeployConfig(config)
          .production.d1_databases.filter((db) => /^KEYS_/.test(db.binding))
          .map((db) => [db.binding, db.database_name]);
      expect(keyBindings()).toEqual([0, 1, 2, 3].map((i) => [`KEYS_${i}`, `tidings-keys-${i}`]));
      const fewer = shards("--env", "production", "--slots", "32", "--per-slot", "8", "--keys", "2", "--pin", "big.example.org");
      expect(fewer.status).toBe(0);
      expect(fewer.stdout).toContain("The day keys move (4 key databases to 2)");
      expect(keyBindings()).toEqual([0, 1].map((i) => [`KEYS_${i}`, `tidings-keys-${i}`]));
      expect(shards("--env", "production", "--slots", "32", "--per-slot", "8", "--keys", "0", "--pin", "big.example.org").status).toBe(0);
      expect(keyBindings()).toEqual([]);
      expect(readFileSync(config, "utf8")).toContain("# No key databases: the day keys are in the stats databases.");
      // A gap is refused before a deploy, as the Worker would refuse it.
      const gapped = { ...production, d1_databases: production.d1_databases.filter((db) => db.binding !== "KEYS_1") };
      expect(productionValueProblems(gapped)).toContain("the key databases: key database KEYS_1 is missing (run `npm run shards`)");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the partitioned queues", () => {
  it("are complete on both sides as shipped, and each side may have its own count", () => {
    expect(partitionProblems(production)).toEqual([]);
    expect(partitionProblems(local, "the top level")).toEqual([]);
    expect(production.queues.producers?.map((q) => q.binding)).toEqual(expect.arrayContaining(["EVENTS", "EVENTS_1", "WEBHOOKS", "WEBHOOKS_1"]));
    // A third events partition in production only: not a binding the top level lacks.
    const wider = structuredClone(production);
    wider.queues.producers = [...(wider.queues.producers ?? []), { binding: "EVENTS_2", queue: "tidings-events-2" }];
    wider.queues.consumers = [...(wider.queues.consumers ?? []), { queue: "tidings-events-2", dead_letter_queue: "tidings-events-dlq" }];
    expect(bindingProblems(local, wider, raw)).toEqual([]);
    expect(partitionProblems(wider)).toEqual([]);
  });

  it("refuse a partition without its consumer, a gap, or a partition bound to another queue, and let a dropped one drain", () => {
    const noConsumer = structuredClone(production);
    noConsumer.queues.consumers = noConsumer.queues.consumers?.filter((q) => q.queue !== "tidings-webhooks-1");
    expect(partitionProblems(noConsumer)).toEqual([expect.stringContaining("no consumer for tidings-webhooks-1")]);
    const noProducer = structuredClone(production);
    noProducer.queues.producers = noProducer.queues.producers?.filter((q) => q.binding !== "EVENTS_1");
    // A consumer without its producer is a dropped partition draining: allowed.
    expect(partitionProblems(noProducer)).toEqual([]);
    const gap = structuredClone(production);
    gap.queues.producers = [...(gap.queues.producers ?? []).filter((q) => q.binding !== "EVENTS_1"), { binding: "EVENTS_2", queue: "tidings-events-2" }];
    expect(partitionProblems(gap)).toEqual([expect.stringContaining("EVENTS_1 is missing")]);
    const crossed = structuredClone(production);
    crossed.queues.producers = crossed.queues.producers?.map((q) => (q.binding === "EVENTS_1" ? { ...q, queue: "tidings-events" } : q));
    expect(partitionProblems(crossed)).toEqual([expect.stringContaining('binds EVENTS_1 to "tidings-events", not to tidings-events-1')]);
  });

  it("npm run shards writes their producers and consumers, prints the queues to create, and drains the partitions it drops", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "tidings-queues-"));
    const config = path.join(dir, "wrangler.toml");
    try {
      cpSync(path.join(root, "wrangler.toml"), config);
      const shards = (...args: string[]) =>
        spawnSync(process.execPath, [path.join(root, "src/tools/shards.mjs"), "--config", config, ...args], { cwd: root, encoding: "utf8" });
      // The shipped file is what its own settings write: 2 and 2 on both sides.
      expect(shards("--event-queues", "2", "--webhook-queues", "2", "--check").status).toBe(0);
      expect(shards("--env", "production", "--event-queues", "2", "--webhook-queues", "2", "--check").status).toBe(0);
      expect(shards("--env", "production", "--event-queues", "3", "--check").status).toBe(1);
      const before = readFileSync(config, "utf8");
      const grown = shards("--env", "production", "--event-queues", "4");
      expect(grown.status).toBe(0);
      expect(grown.stdout).toContain("npx wrangler queues create tidings-events-2");
      expect(grown.stdout).toContain("npx wrangler queues create tidings-events-3");
      // Queues that exist already are not listed; the webhooks count, not given, is kept.
      expect(grown.stdout).not.toMatch(/queues create tidings-events-1\b|queues create tidings-webhooks/);
      const { local: writtenLocal, production: written } = readDeployConfig(config);
      expect(written.queues.producers?.find((q) => q.binding === "EVENTS_3")?.queue).toBe("tidings-events-3");
      expect(written.queues.consumers?.find((q) => q.queue === "tidings-events-3")).toMatchObject({
        max_batch_size: 100,
        dead_letter_queue: "tidings-events-dlq",
      });
      expect(written.queues.producers?.filter((q) => q.binding.startsWith("WEBHOOKS"))).toHaveLength(2);
      expect(partitionProblems(written)).toEqual([]);
      expect(bindingProblems(writtenLocal, written, readDeployConfig(config).raw)).toEqual([]);
      // Only the production queues' block changed: the top level and the rings are as they were.
      expect(shards("--event-queues", "2", "--webhook-queues", "2", "--check").status).toBe(0);
      expect(shards("--env", "production", "--slots", "32", "--per-slot", "4", "--check").status).toBe(0);
      const changed = readFileSync(config, "utf8");
      expect(changed.slice(0, changed.indexOf("# >>> queue partitions (production)"))).toBe(
        before.slice(0, before.indexOf("# >>> queue partitions (production)")),
      );
      // Fewer partitions: the dropped ones lose their producers at once but keep their consumers,
      // so what is still on them is consumed, until a rerun with --force.
      const shrink = shards("--env", "production", "--event-queues", "2");
      expect(shrink.status).toBe(0);
      expect(shrink.stdout).toContain("Draining (consumed, no longer produced to): tidings-events-2, tidings-events-3");
      const drainingConfig = readDeployConfig(config).production;
      expect(drainingConfig.queues.producers?.map((q) => q.binding).filter((name) => name.startsWith("EVENTS"))).toEqual(["EVENTS", "EVENTS_1", "EVENTS_DLQ"]);
      expect(drainingConfig.queues.consumers?.map((q) => q.queue)).toEqual(expect.arrayContaining(["tidings-events-2", "tidings-events-3"]));
      expect(partitionProblems(drainingConfig)).toEqual([]);
      // A rerun without --force keeps them draining; with it, they go.
      expect(shards("--env", "production", "--event-queues", "2").status).toBe(0);
      expect(readDeployConfig(config).production.queues.consumers?.map((q) => q.queue)).toContain("tidings-events-3");
      expect(shards("--env", "production", "--event-queues", "2", "--force").status).toBe(0);
      expect(readDeployConfig(config).production.queues.consumers?.map((q) => q.queue)).not.toContain("tidings-events-2");
      expect(shards("--env", "production", "--event-queues", "2", "--webhook-queues", "2", "--check").status).toBe(0);
      expect(shards("--event-queues", "0").status).toBe(1);
      expect(shards("--webhook-queues", "65").status).toBe(1);
      expect(shards().status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm run deploy", () => {
  it("refuses the shipped placeholders before running anything else", () => {
    const result = spawnSync(path.join(root, "node_modules/.bin/tsx"), ["src/tools/deploy.mjs"], { cwd: root, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Not deploying: fill in wrangler.toml [env.production] first");
    expect(result.stderr).toContain('database_id of D1 "DB"');
    expect(result.stdout).not.toContain("== typecheck");
  });
});
