#!/usr/bin/env node
// `npm run deploy:plan`: prints every command a Cloudflare account needs before the first
// `npm run deploy` (D1 databases, every queue and dead-letter queue, R2 buckets, migrations,
// secrets), generated from wrangler.toml's production environment so the two cannot drift; the
// DNS records its routes need; and what in that environment still keeps a deploy from working.
// Exits 1 when production's bindings or secrets differ from the top level's or from
// src/secrets.ts, or when a partitioned queue (either side) lacks a partition's producer or consumer
// (a config error, whatever the values). docs/deploy.md walks through it.
import { bindingProblems, deployPlan, dnsPlan, partitionProblems, productionValueProblems, readDeployConfig, secretProblems } from "./deploy-config.mjs";

const { local, production, raw } = readDeployConfig(process.argv[2] ?? "wrangler.toml");

console.log("# Run once per Cloudflare account, in this order (docs/deploy.md):");
for (const step of deployPlan(production)) console.log(step.note ? `${step.command}\n    # ${step.note}` : step.command);

const dns = dnsPlan(production);
if (dns.length) {
  console.log('\n# DNS and zone settings (docs/deploy.md, "DNS"):');
  for (const line of dns) console.log(`#   ${line}`);
}

const structural = [
  ...bindingProblems(local, production, raw),
  ...secretProblems(production),
  ...partitionProblems(production),
  ...partitionProblems(local, "the top level"),
];
const values = productionValueProblems(production);
if (values.length) {
  console.log("\n# Still to fill in wrangler.toml [env.production] before `npm run deploy`:");
  for (const problem of values) console.log(`#   - ${problem}`);
}
if (structural.length) {
  console.error("\nwrangler.toml's production environment does not match the Worker:");
  for (const problem of structural) console.error(`  - ${problem}`);
  process.exit(1);
}
