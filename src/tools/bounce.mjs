#!/usr/bin/env node
// `npm run bounce -- dsn|arf [recipient or return path]`: mails the sample DSN or ARF report of
// samples/ back to the running Worker's email() handler, as a remote MTA or a mailbox provider
// would, for a message the local mailbox received (by default the newest), so the walkthrough shows
// its failed (or complained) event end to end. Posts to wrangler's local email endpoint,
// /cdn-cgi/handler/email?from=...&to=..., with both addresses URL-encoded (a VERP return path holds
// a "+", which an unencoded query string turns into a space). Node-side tooling: not in the bundle.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fillSample, returnedHeaders } from "./bounce-sample.mjs";
import { DEFAULT_MAILBOX_DIR, listMessages, readMessage } from "./mailbox.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const KINDS = { dsn: { event: "failed", what: "DSN (hard bounce)" }, arf: { event: "complained", what: "ARF report (complaint)" } };
const REPORTER = { dsn: "MAILER-DAEMON@mx.example.net", arf: "feedbackloop@provider.example" };
const EVENT_WAIT_MS = 10_000; // the events queue writes within a second or two locally
const EVENT_POLL_MS = 500;

const [kind, wanted] = process.argv.slice(2);
if (!Object.hasOwn(KINDS, kind ?? "")) fail("Usage: npm run bounce -- dsn|arf [recipient or bounce+... return path]");

const dir = process.env.MAILBOX_DIR || DEFAULT_MAILBOX_DIR;
const workerUrl = (process.env.TIDINGS_URL || `http://127.0.0.1:${process.env.PORT || "8787"}`).replace(/\/+$/, "");

const message = await findMessage(dir, wanted);
if (!message) {
  fail(
    wanted
      ? `No message for ${wanted} in ${dir}. List them with: npm run mailbox`
      : `No message with a bounce+ return path in ${dir} yet: send one first (README, "Send a message"), then run this again.`,
  );
}
const returnPath = message.summary.envelopeFrom;
const recipient = wanted && !isReturnPath(wanted) ? message.summary.to.find((to) => sameAddress(to, wanted)) : message.summary.to[0];
const template = await readFile(path.join(root, "samples", `${kind}.eml`), "utf8");
const raw = fillSample(template, {
  return_path: returnPath,
  recipient,
  original_headers: returnedHeaders(message.raw.toString("utf8"), returnPath),
  date: new Date().toUTCString(),
});

const endpoint = `${workerUrl}/cdn-cgi/handler/email?${new URLSearchParams({ from: REPORTER[kind], to: returnPath })}`;
let response;
try {
  response = await fetch(endpoint, { method: "POST", headers: { "content-type": "message/rfc822" }, body: raw });
} catch (error) {
  fail(
    `Cannot reach the Worker at ${workerUrl} (${error.cause?.code ?? error.message}). Is \`npm start\` running? Set PORT or TIDINGS_URL if it is elsewhere.`,
  );
}
const answer = (await response.text()).trim();
if (!response.ok) fail(`The Worker answered ${response.status}: ${answer.slice(0, 500)}`);
console.log(`Sent a ${KINDS[kind].what} for ${recipient} to ${returnPath}: ${response.status} ${answer.slice(0, 200)}`);

const domain = sendingDomain(message.raw.toString("utf8"));
const apiKey = process.env.API_KEY || (await devVar("API_KEY"));
if (!domain || !apiKey) {
  console.log(
    `See its ${KINDS[kind].event} event in the panel's Logs, or: curl -s --user "api:$API_KEY" '${workerUrl}/v3/<domain>/events?event=${KINDS[kind].event}'`,
  );
} else {
  const event = await waitForEvent(domain, KINDS[kind].event, recipient, apiKey);
  if (!event) fail(`No ${KINDS[kind].event} event for ${recipient} on ${domain} after ${EVENT_WAIT_MS / 1000} s: see the Worker's log.`);
  const status = event["delivery-status"];
  const detail = status ? ` (${status.code} ${status["bounce-code"] ?? ""}, delayed bounce)`.replace(/\s+,/, ",") : "";
  console.log(
    `Recorded: ${event.event} event for ${event.recipient} on ${domain}${detail}; the address is now on the ${kind === "dsn" ? "bounces" : "complaints"} list.`,
  );
}

/** The newest message matching `wanted` (a recipient, or a return path), or the newest with a VERP return path. */
async function findMessage(mailboxDir, target) {
  for (const summary of await listMessages(mailboxDir)) {
    if (!summary.envelopeFrom.toLowerCase().startsWith("bounce+")) continue;
    const matches = !target || (isReturnPath(target) ? sameAddress(summary.envelopeFrom, target) : summary.to.some((to) => sameAddress(to, target)));
    if (matches) return readMessage(mailboxDir, summary.id);
  }
  return null;
}

function isReturnPath(address) {
  return address.toLowerCase().startsWith("bounce+");
}

function sameAddress(a, b) {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** The domain of the message's From header: the sending domain whose events the report lands in. */
function sendingDomain(raw) {
  const from = /^from:[^\n]*?([^\s<@"]+)@([a-z0-9.-]+)/im.exec(returnedHeaders(raw, ""));
  return from ? from[2].toLowerCase() : "";
}

/** A value from .dev.vars (KEY=value or KEY="value"), where `npm start` keeps the local secrets. */
async function devVar(name) {
  const text = await readFile(path.join(root, ".dev.vars"), "utf8").catch(() => "");
  const line = text.split(/\r?\n/).find((l) => l.startsWith(`${name}=`));
  return line
    ? line
        .slice(name.length + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1")
    : "";
}

async function waitForEvent(domain, event, address, key) {
  const authorization = `Basic ${Buffer.from(`api:${key}`).toString("base64")}`;
  const query = new URLSearchParams({ event, recipient: address, limit: "1" });
  for (const started = Date.now(); Date.now() - started < EVENT_WAIT_MS; await new Promise((r) => setTimeout(r, EVENT_POLL_MS))) {
    const response = await fetch(`${workerUrl}/v3/${encodeURIComponent(domain)}/events?${query}`, { headers: { authorization } });
    if (response.status === 401) return fail("The Worker refused API_KEY: set API_KEY to the key `npm start` printed.");
    if (response.ok) {
      const [item] = (await response.json()).items ?? [];
      if (item) return item;
    }
  }
  return null;
}

function fail(text) {
  console.error(text);
  process.exit(1);
}
