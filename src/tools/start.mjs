#!/usr/bin/env node
// `npm start`: the whole network on this machine. Records in .dev.vars what the first run chose
// (API key, tracking secret, mailbox ports), starts the local mailbox (an SMTP relay sink,
// src/tools/mailbox.mjs) unless an SMTP_RELAY_HOST is configured, applies D1 migrations to the
// local state, then runs `wrangler dev` on PORT (8787) and its cron every 30 s. It prints a
// screen, not a log: the migrations in one line, where things answer, and wrangler's output
// without its bindings table. Node-side tooling: not part of the Worker bundle.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DEFAULT_MAILBOX_DIR, startMailbox } from "./mailbox.mjs";
import { wranglerOutputFilter } from "./start-output.mjs";
import { devVarsToRecord, formatDevVar, parseDevVars, setting, workerVars } from "./start-vars.mjs";
import { offlineEnv } from "./wrangler-offline.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const devVarsPath = path.join(root, ".dev.vars");
// The Worker's variables, handed to wrangler instead of .dev.vars (which also holds npm start's
// own settings): under .wrangler/, which git ignores, readable by the owner only.
const workerVarsPath = path.join(root, ".wrangler", "start", "worker.vars");
const port = process.env.PORT || "8787";

// Keep wrangler off the network: no metrics, no update check, no request.cf download.
const env = offlineEnv();

const devVars = parseDevVars(existsSync(devVarsPath) ? readFileSync(devVarsPath, "utf8") : "");
const useMailbox = !setting("SMTP_RELAY_HOST", devVars, process.env);

const recorded = devVarsToRecord({ devVars, env: process.env, useMailbox, newSecret: () => randomBytes(24).toString("base64url") });
if (recorded.size) {
  // Appended, so whatever else the file holds (comments, a relay's settings) stays as written.
  const existing = existsSync(devVarsPath) ? readFileSync(devVarsPath, "utf8") : "";
  const lines = [...recorded].map(([name, value]) => formatDevVar(name, value)).join("\n") + "\n";
  appendFileSync(devVarsPath, (existing && !existing.endsWith("\n") ? "\n" : "") + lines, { mode: 0o600 });
  for (const [name, value] of recorded) devVars.set(name, value);
  console.log(`Wrote ${[...recorded.keys()].join(", ")} to ${path.relative(process.cwd(), devVarsPath) || ".dev.vars"}.`);
}

function readPort(name) {
  const value = setting(name, devVars, process.env);
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 65535) {
    console.error(`${name} must be a port number from 1 to 65535, not "${value}".`);
    process.exit(1);
  }
  return number;
}

let mailbox;
if (useMailbox) {
  const smtpPort = readPort("MAILBOX_SMTP_PORT");
  const httpPort = readPort("MAILBOX_HTTP_PORT");
  try {
    mailbox = await startMailbox({
      smtpPort,
      httpPort,
      dir: process.env.MAILBOX_DIR || DEFAULT_MAILBOX_DIR,
      onMessage: (m) => console.log(`[mailbox] ${m.from || "<>"} → ${m.to.join(", ")}: "${m.subject}"  http://127.0.0.1:${httpPort}/messages/${m.id}`),
    });
  } catch (err) {
    console.error(
      `Cannot start the local mailbox: ${err.message}.\n` +
        "Another `npm start` (or another mail tool) may be running; stop it, or choose other ports with\n" +
        "MAILBOX_SMTP_PORT / MAILBOX_HTTP_PORT in .dev.vars or the environment.",
    );
    process.exit(1);
  }
}

// Migrations: the control database and every event shard, in one process (migrate-local.mjs),
// shown as one line; on failure its whole output is shown.
const migrate = spawnSync(process.execPath, [path.join(root, "src/tools/migrate-local.mjs")], { cwd: root, env: { ...env, CI: "true" }, encoding: "utf8" });
// Its last line is the summary (wrangler's local runtime may say which .dev.vars it read before it).
const migrated = migrate.status === 0 ? migrate.stdout.trim().split("\n").at(-1) : null;
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
if (migrate.status !== 0) {
  process.stdout.write(migrate.stdout ?? "");
  process.stderr.write(migrate.stderr ?? "");
  console.error(migrate.error ? `Cannot run node: ${migrate.error.message}` : "Applying D1 migrations failed; see above.");
  await mailbox?.close();
  process.exit(migrate.status ?? 1);
}

const vars = workerVars({ devVars, env: process.env, port, mailboxSmtpPort: mailbox?.smtpPort });
mkdirSync(path.dirname(workerVarsPath), { recursive: true });
writeFileSync(workerVarsPath, [...vars].map(([name, value]) => formatDevVar(name, value)).join("\n") + "\n", { mode: 0o600 });
chmodSync(workerVarsPath, 0o600);

const apiKey = vars.get("API_KEY");
const base = `http://127.0.0.1:${port}`;
const delivery = mailbox
  ? `  Mailbox:        http://127.0.0.1:${mailbox.httpPort}/  (all mail lands here; \`npm run mailbox\` lists it)`
  : `  SMTP relay:     ${vars.get("SMTP_RELAY_HOST")}:${vars.get("SMTP_RELAY_PORT") || "587"} (${vars.get("SMTP_RELAY_SECURITY") || "starttls"})`;
const resolver = vars.get("DNS_RESOLVER_URL");
const dns =
  resolver === "" ? "off (TIDINGS_DNS_CHECKS=1 or a DNS_RESOLVER_URL turns them on)" : `on, through ${resolver ?? "wrangler.toml's DNS_RESOLVER_URL"}`;
console.log(`${migrated ? `${migrated}\n` : ""}
Tidings is starting on ${base}
  API key:        ${apiKey}
  Control panel:  ${base}/app  (sign in with the API key)
  Try:            curl -u api:${apiKey} ${base}/v4/domains
${delivery}
  DNS checks:     ${dns}
  Stop:           Ctrl+C
`);

// wrangler's output goes through a filter (start-output.mjs); its errors (stderr) as they are.
const child = spawn(
  wrangler,
  ["dev", "--ip", "127.0.0.1", "--port", port, "--local", "--test-scheduled", "--env-file", workerVarsPath, ...process.argv.slice(2)],
  { cwd: root, env: process.stdout.isTTY ? { ...env, FORCE_COLOR: "1" } : env, stdio: ["inherit", "pipe", "inherit"] },
);
const keep = wranglerOutputFilter();
createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => {
  if (keep(line)) console.log(line);
});

// wrangler dev never fires cron triggers by itself: run the scheduled handler (retention, stats
// rollups) through the --test-scheduled endpoint, as the platform would. Every 30 s, so an event
// shows in the stats within a minute whenever it arrives (a run with nothing new is a few reads,
// and logs nothing).
const CRON_EVERY_MS = 30_000;
const cron = setInterval(() => {
  fetch(`${base}/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`).catch(() => {
    // Not up yet, or restarting: the next tick tries again.
  });
}, CRON_EVERY_MS);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    clearInterval(cron);
    child.kill(signal);
    mailbox?.close();
  });
}
child.on("exit", async (code) => {
  clearInterval(cron);
  await mailbox?.close();
  process.exit(code ?? 0);
});
