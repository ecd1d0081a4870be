#!/usr/bin/env node
// `npm start`: the whole network on this machine. Makes .dev.vars (API key, tracking secret) if
// missing, starts the local mailbox (an SMTP relay sink, src/tools/mailbox.mjs) unless an
// SMTP_RELAY_HOST is configured, applies D1 migrations to the local state, then runs
// `wrangler dev` on PORT (8787). Node-side tooling: not part of the Worker bundle.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { DEFAULT_MAILBOX_DIR, startMailbox } from "./mailbox.mjs";

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

const RELAY_SETTINGS = ["SMTP_RELAY_HOST", "SMTP_RELAY_PORT", "SMTP_RELAY_SECURITY", "SMTP_RELAY_USER", "SMTP_RELAY_PASSWORD"];
const MAILBOX_DEFAULTS = { MAILBOX_SMTP_PORT: "2525", MAILBOX_HTTP_PORT: "8025" };

// A setting counts when it is non-empty; the environment's value wins over .dev.vars.
const vars = readDevVars();
const setting = (name) => process.env[name] || vars[name] || "";
const useMailbox = !setting("SMTP_RELAY_HOST");

const added = {};
for (const name of ["API_KEY", "TRACKING_SECRET"]) {
  if (!vars[name]) added[name] = randomBytes(24).toString("base64url");
}
if (useMailbox) {
  for (const [name, value] of Object.entries(MAILBOX_DEFAULTS)) if (!vars[name]) added[name] = value;
}
if (Object.keys(added).length) {
  // Appended, so whatever else the file holds (comments, a relay's settings) stays as written.
  const existing = existsSync(devVarsPath) ? readFileSync(devVarsPath, "utf8") : "";
  const lines = Object.entries(added).map(([k, v]) => `${k}="${v}"`).join("\n") + "\n";
  appendFileSync(devVarsPath, (existing && !existing.endsWith("\n") ? "\n" : "") + lines, { mode: 0o600 });
  Object.assign(vars, added);
  console.log(`Wrote ${Object.keys(added).join(", ")} to ${path.relative(process.cwd(), devVarsPath) || ".dev.vars"}.`);
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

function readPort(name) {
  const value = setting(name) || MAILBOX_DEFAULTS[name];
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${name} must be a port number from 1 to 65535, not "${value}".`);
    process.exit(1);
  }
  return port;
}

const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], { cwd: root, env: { ...env, CI: "true" }, stdio: "inherit" });
if (migrate.status !== 0) {
  console.error("Applying D1 migrations failed; see above.");
  await mailbox?.close();
  process.exit(migrate.status ?? 1);
}

// Environment values win over .dev.vars; wrangler takes them as --var overrides.
const apiKey = process.env.API_KEY || vars.API_KEY;
const trackingSecret = process.env.TRACKING_SECRET || vars.TRACKING_SECRET;
const base = `http://127.0.0.1:${port}`;

// Without a relay of one's own, mail goes to the mailbox. With one, wrangler reads .dev.vars
// itself, so only the environment's values need passing, as overrides.
const relayArgs = mailbox
  ? ["--var", "SMTP_RELAY_HOST:127.0.0.1", "--var", `SMTP_RELAY_PORT:${mailbox.smtpPort}`, "--var", "SMTP_RELAY_SECURITY:none"]
  : RELAY_SETTINGS.filter((name) => process.env[name]).flatMap((name) => ["--var", `${name}:${process.env[name]}`]);
const delivery = mailbox
  ? `  Mailbox:        http://127.0.0.1:${mailbox.httpPort}/  (all mail lands here; \`npm run mailbox\` lists it)`
  : `  SMTP relay:     ${setting("SMTP_RELAY_HOST")}:${setting("SMTP_RELAY_PORT") || "587"} (${setting("SMTP_RELAY_SECURITY") || "starttls"})`;
console.log(`
Tidings is starting on ${base}
  API key:        ${apiKey}
  Control panel:  ${base}/app  (sign in with the API key)
  Try:            curl -u api:${apiKey} ${base}/v4/domains
${delivery}
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
    // Webhook receivers on this machine or network are the normal case locally; "false" in
    // .dev.vars or the environment tries the deployed rule (wrangler.toml, WEBHOOK_ALLOW_PRIVATE_URLS).
    "--var", `WEBHOOK_ALLOW_PRIVATE_URLS:${setting("WEBHOOK_ALLOW_PRIVATE_URLS") || "true"}`,
    ...relayArgs,
    ...process.argv.slice(2),
  ],
  { cwd: root, env, stdio: "inherit" },
);
// wrangler dev never fires cron triggers by itself: run the scheduled handler (retention, stats
// rollups) through the --test-scheduled endpoint, as the platform would. Every 30 s, so an event
// shows in the stats within a minute whenever it arrives (a run with nothing new is a few reads).
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
