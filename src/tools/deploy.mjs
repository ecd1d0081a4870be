#!/usr/bin/env node
// `npm run deploy`: the checks, then `wrangler deploy --env production`. Refuses, before anything
// reaches Cloudflare, a production environment that lacks a binding or a var of the top level,
// whose required secrets differ from src/secrets.ts, that still holds placeholders (database id,
// example.net hosts) or allows private webhook URLs; then runs the typecheck and checks that
// worker-configuration.d.ts is fresh. `npm run deploy -- --dry-run` (CI) runs every check, reports
// the placeholders without refusing (the repository ships them), and bundles with
// `wrangler deploy --env production --dry-run` instead of deploying. Other arguments go to
// `wrangler deploy` (`-- --secrets-file FILE` uploads secrets with the deployment, in one step:
// docs/deploy.md, "Rotating the tracking secret"). Run with tsx.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { typesAreFresh } from "./cf-typegen.mjs";
import { bindingProblems, PRODUCTION_ENV, partitionProblems, productionValueProblems, readDeployConfig, secretProblems } from "./deploy-config.mjs";
import { offlineEnv } from "./wrangler-offline.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dryRun = process.argv.includes("--dry-run");
const passOn = process.argv.slice(2).filter((arg) => arg !== "--dry-run");
const env = offlineEnv();

function refuse(title, problems) {
  console.error(`\nNot deploying: ${title}`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}

function run(label, command, args) {
  console.log(`== ${label}`);
  const result = spawnSync(command, args, { cwd: root, env, stdio: "inherit" });
  if (result.status !== 0) refuse(`${label} failed (exit ${result.status ?? result.signal}).`, []);
}

console.log("== wrangler.toml: production bindings, secrets and values");
const { local, production, raw } = readDeployConfig(path.join(root, "wrangler.toml"));
const structural = [
  ...bindingProblems(local, production, raw),
  ...secretProblems(production),
  ...partitionProblems(production),
  ...partitionProblems(local, "the top level"),
];
if (structural.length) refuse("wrangler.toml's production environment does not match the Worker.", structural);
const values = productionValueProblems(production);
if (values.length && !dryRun) refuse(`fill in wrangler.toml [env.${PRODUCTION_ENV}] first (docs/deploy.md).`, values);
for (const problem of values) console.log(`  (a real deploy would refuse) ${problem}`);
if (!String(production.vars?.SMTP_RELAY_HOST ?? "")) {
  console.log("  note: SMTP_RELAY_HOST is empty, so the Messages API accepts mail that waits and retries until a relay is set.");
}

run("typecheck", "npm", ["run", "typecheck"]);

console.log("== worker-configuration.d.ts is fresh");
if (!typesAreFresh()) refuse("worker-configuration.d.ts is stale.", ["run `npm run cf-typegen` and commit it"]);

const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
if (dryRun) {
  const outdir = mkdtempSync(path.join(tmpdir(), "tidings-deploy-"));
  try {
    run(`wrangler deploy --env ${PRODUCTION_ENV} --dry-run`, wrangler, ["deploy", "--env", PRODUCTION_ENV, "--dry-run", "--outdir", outdir, ...passOn]);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
} else {
  run(`wrangler deploy --env ${PRODUCTION_ENV}`, wrangler, ["deploy", "--env", PRODUCTION_ENV, ...passOn]);
}
