#!/usr/bin/env node
// `npm start`: the whole network on this machine. Makes .dev.vars (API key, tracking secret) if
// missing, applies D1 migrations to the local state, then runs `wrangler dev` on PORT (8787).
// Node-side tooling: not part of the Worker bundle.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const devVarsPath = path.join(root, ".dev.vars");
const port = process.env.PORT || "8787";

// Keep wrangler off the network: no metrics, no update check, no request.cf download.
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};

function readDevVars() {
  if (!existsSync(devVarsPath)) return {};
  const vars = {};
  for (const line of readFileSync(devVarsPath, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (match) vars[match[1]] = match[2];
  }
  return vars;
}

const vars = readDevVars();
let changed = false;
for (const name of ["API_KEY", "TRACKING_SECRET"]) {
  if (!vars[name]) {
    vars[name] = randomBytes(24).toString("base64url");
    changed = true;
  }
}
if (changed) {
  const text = Object.entries(vars).map(([k, v]) => `${k}="${v}"`).join("\n") + "\n";
  writeFileSync(devVarsPath, text, { mode: 0o600 });
  console.log(`Wrote ${path.relative(process.cwd(), devVarsPath) || ".dev.vars"} with a new API key and tracking secret.`);
}

const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], { cwd: root, env: { ...env, CI: "true" }, stdio: "inherit" });
if (migrate.status !== 0) {
  console.error("Applying D1 migrations failed; see above.");
  process.exit(migrate.status ?? 1);
}

// Environment values win over .dev.vars; wrangler takes them as --var overrides.
const apiKey = process.env.API_KEY || vars.API_KEY;
const trackingSecret = process.env.TRACKING_SECRET || vars.TRACKING_SECRET;
const base = `http://127.0.0.1:${port}`;
console.log(`
Tidings is starting on ${base}
  API key:        ${apiKey}
  Try:            curl -u api:${apiKey} ${base}/v4/domains
`);

const child = spawn(
  wrangler,
  [
    "dev",
    "--ip", "127.0.0.1",
    "--port", port,
    "--local",
    "--test-scheduled",
    "--var", `API_KEY:${apiKey}`,
    "--var", `TRACKING_SECRET:${trackingSecret}`,
    "--var", `TRACKING_LINK_BASE:${process.env.TRACKING_LINK_BASE || base}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, env, stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
