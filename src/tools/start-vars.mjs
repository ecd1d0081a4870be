// The settings `npm start` (src/tools/start.mjs) reads and hands on, as pure functions that
// test/node checks: .dev.vars read and written, what the first run records there, and the
// variables the Worker gets. Node-side tooling: not part of the Worker bundle.

/** Ports of the local mailbox when neither .dev.vars nor the environment names one. */
export const MAILBOX_DEFAULTS = Object.freeze({ MAILBOX_SMTP_PORT: "2525", MAILBOX_HTTP_PORT: "8025" });
/** Generated on the first run when missing. */
export const GENERATED_SECRETS = Object.freeze(["API_KEY", "TRACKING_SECRET"]);
/** The relay's settings, which the environment may override one by one. */
export const RELAY_SETTINGS = Object.freeze(["SMTP_RELAY_HOST", "SMTP_RELAY_PORT", "SMTP_RELAY_SECURITY", "SMTP_RELAY_USER", "SMTP_RELAY_PASSWORD"]);

/**
 * npm start's own settings (PORT, MAILBOX_*, TIDINGS_*): read from .dev.vars or the environment,
 * never handed to the Worker, whose bindings hold only what it reads.
 */
export function isWorkerSetting(name) {
  return name !== "PORT" && !name.startsWith("MAILBOX_") && !name.startsWith("TIDINGS_");
}

/**
 * A setting as npm start reads it: the environment's value wins over .dev.vars; empty counts as
 * unset in both. `devVars` is a Map (from parseDevVars), `env` is process.env or its like.
 */
export function setting(name, devVars, env) {
  return (Object.hasOwn(env, name) && env[name]) || devVars.get(name) || "";
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/**
 * The variables of a .dev.vars file, in the dotenv forms wrangler reads: NAME=value (a " #"
 * starts a comment), NAME="value" (\n is a newline), NAME='value' and NAME=`value` (as written).
 * Multi-line quoted values are not supported. Later lines win, as in dotenv.
 */
export function parseDevVars(text) {
  const vars = new Map();
  for (const line of text.split(/\r?\n/)) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, name, raw] = match;
    const quote = raw[0];
    const end = quote === '"' || quote === "'" || quote === "`" ? raw.indexOf(quote, 1) : -1;
    let value;
    if (end > 0) value = raw.slice(1, end);
    else value = raw.replace(/(^|\s)#.*$/, "").trim();
    if (quote === '"' && end > 0) value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    vars.set(name, value);
  }
  return vars;
}

/** One NAME=value line that parseDevVars (and dotenv) reads back as `value`. */
export function formatDevVar(name, value) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`"${name}" is not a variable name`);
  if (/^[^"\\\r\n]*$/.test(value)) return `${name}="${value}"`;
  if (/^[^'\r\n]*$/.test(value)) return `${name}='${value}'`;
  if (/^[^`\r\n]*$/.test(value)) return `${name}=\`${value}\``;
  throw new Error(`${name}'s value holds a line break and every kind of quote; .dev.vars cannot hold it`);
}

/**
 * What the first run records in .dev.vars (only what is missing there): the secrets and, when the
 * mailbox runs, its ports, each as it is used: the environment's value when set, else a new
 * secret (`newSecret()`) or the default port.
 */
export function devVarsToRecord({ devVars, env, useMailbox, newSecret }) {
  const record = new Map();
  const missing = (name) => !devVars.get(name);
  for (const name of GENERATED_SECRETS) if (missing(name)) record.set(name, setting(name, devVars, env) || newSecret());
  if (useMailbox) {
    for (const [name, fallback] of Object.entries(MAILBOX_DEFAULTS)) if (missing(name)) record.set(name, setting(name, devVars, env) || fallback);
  }
  return record;
}

/**
 * The Worker's variables under npm start, given .dev.vars (after recording) and the environment:
 * .dev.vars' Worker settings, then the environment's secrets and relay settings over them, the
 * local mailbox as relay when it runs, tracking links on this machine, webhooks to private hosts
 * allowed, and DNS checks off unless DNS_RESOLVER_URL is set or TIDINGS_DNS_CHECKS=1 (offline,
 * every lookup fails; wrangler.toml's resolver is used when asked).
 */
export function workerVars({ devVars, env, port, mailboxSmtpPort }) {
  const vars = new Map([...devVars].filter(([name]) => isWorkerSetting(name)));
  const fromEnv = (name) => Object.hasOwn(env, name) && env[name];
  for (const name of [...GENERATED_SECRETS, ...RELAY_SETTINGS]) if (fromEnv(name)) vars.set(name, env[name]);
  if (mailboxSmtpPort !== undefined) {
    vars.set("SMTP_RELAY_HOST", "127.0.0.1");
    vars.set("SMTP_RELAY_PORT", String(mailboxSmtpPort));
    vars.set("SMTP_RELAY_SECURITY", "none");
  }
  vars.set("TRACKING_LINK_BASE", setting("TRACKING_LINK_BASE", devVars, env) || `http://127.0.0.1:${port}`);
  // Webhook receivers on this machine or network are the normal case locally; "false" tries the
  // deployed rule (wrangler.toml, WEBHOOK_ALLOW_PRIVATE_URLS).
  vars.set("WEBHOOK_ALLOW_PRIVATE_URLS", setting("WEBHOOK_ALLOW_PRIVATE_URLS", devVars, env) || "true");
  const resolver = setting("DNS_RESOLVER_URL", devVars, env);
  if (resolver) vars.set("DNS_RESOLVER_URL", resolver);
  else if (!dnsChecksAsked(devVars, env)) vars.set("DNS_RESOLVER_URL", "");
  return vars;
}

/** TIDINGS_DNS_CHECKS=1 (or true, yes) keeps wrangler.toml's DNS resolver under npm start. */
export function dnsChecksAsked(devVars, env) {
  return /^(1|true|yes)$/i.test(setting("TIDINGS_DNS_CHECKS", devVars, env));
}
