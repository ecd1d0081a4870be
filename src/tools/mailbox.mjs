#!/usr/bin/env node
// The local mailbox: an SMTP relay sink that `npm start` runs when no SMTP_RELAY_HOST is set. Keeps
// each delivered message as <dir>/<id>.eml plus <id>.json (From, subject, envelope, time) and shows them
// on a small web page. Node-side tooling: not part of the Worker bundle.
import { randomBytes } from "node:crypto";
import { createWriteStream, realpathSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import PostalMime from "postal-mime";
import { SMTPServer } from "smtp-server";
import { formatAddresses, renderList, renderMessage } from "./mailbox-pages.mjs";

export { escapeHtml, formatAddresses } from "./mailbox-pages.mjs";

export const DEFAULT_MAILBOX_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../.wrangler/mailbox");
const MAX_MESSAGE_BYTES = 30 * 1024 * 1024; // 30 MB, what providers' relays commonly accept
const SMTP_CLOSE_TIMEOUT_MS = 1000; // how long close() lets a client finish before cutting it off
const ID_PATTERN = /^\d{8}-\d{9}-[0-9a-f]{8}$/; // also keeps request paths inside `dir`

/** Starts the SMTP sink and its web page; port 0 picks a free port. */
export async function startMailbox({ smtpPort, httpPort, dir, host = "127.0.0.1", onMessage }) {
  await mkdir(dir, { recursive: true });
  const smtp = new SMTPServer({
    name: "tidings-mailbox",
    banner: "Tidings local mailbox",
    // Security "none": no STARTTLS; AUTH is optional and any credentials pass, for clients that insist.
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username || "anyone" }),
    size: MAX_MESSAGE_BYTES,
    rejectOversized: true,
    disableReverseLookup: true,
    logger: false,
    closeTimeout: SMTP_CLOSE_TIMEOUT_MS,
    onData(stream, session, callback) {
      storeMessage(dir, stream, session.envelope).then(
        (summary) => {
          if (!summary) return callback(Object.assign(new Error("Message exceeds fixed maximum message size"), { responseCode: 552 }));
          callback(null, `Message queued as ${summary.id}`);
          try {
            onMessage?.(summary);
          } catch (err) {
            console.error(`mailbox: onMessage: ${err.message}`);
          }
        },
        (err) => {
          console.error(`mailbox: could not store a message: ${err.message}`);
          callback(Object.assign(new Error("Could not store the message"), { responseCode: 451 }));
        },
      );
    },
  });
  // SMTPServer re-emits its listener's and its clients' errors (a dropped connection, a bad command);
  // they must not end the process. A failed listen() is reported by listen() below instead.
  let listening = false;
  smtp.on("error", (err) => listening && console.error(`mailbox: SMTP: ${err.message}`));
  const smtpListener = await listen("SMTP", smtp.server, smtpPort, host);
  listening = true;
  const smtpAddress = `${host}:${smtpListener.port}`;
  const http = createServer((req, res) => {
    handleRequest(dir, smtpAddress, req, res).catch((err) => {
      console.error(`mailbox: ${req.method} ${req.url}: ${err.stack ?? err}`);
      if (res.headersSent) return void res.destroy();
      send(res, 500, "text/plain; charset=utf-8", "Internal error\n");
    });
  });
  let httpListener;
  try {
    httpListener = await listen("web", http, httpPort, host);
  } catch (err) {
    await new Promise((resolve) => smtp.close(resolve));
    throw err;
  }

  let closing;
  return {
    smtpPort: smtpListener.port,
    httpPort: httpListener.port,
    close() {
      closing ??= Promise.all([
        new Promise((resolve) => smtp.close(resolve)),
        new Promise((resolve) => {
          http.close(resolve);
          http.closeAllConnections();
        }),
      ]).then(() => undefined);
      return closing;
    },
  };
}

/** Listens on port and host; an error names the port so a taken one is clear to the reader. */
function listen(kind, server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      const reason = err.code === "EADDRINUSE" ? "is already in use" : `cannot be opened (${err.message})`;
      reject(Object.assign(new Error(`the mailbox's ${kind} port ${port} on ${host} ${reason}`, { cause: err }), { code: err.code }));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve(server.address());
    });
  });
}

async function storeMessage(dir, stream, envelope) {
  const receivedAt = new Date();
  const id = newMessageId(receivedAt);
  const emlPath = path.join(dir, `${id}.eml`);
  // Written under another name first: a message is listed only once its sidecar exists.
  const partialPath = `${emlPath}.part`;
  await mkdir(dir, { recursive: true });
  try {
    await pipeline(stream, createWriteStream(partialPath));
  } catch (err) {
    await rm(partialPath, { force: true });
    throw err;
  }
  if (stream.sizeExceeded) {
    await rm(partialPath, { force: true });
    return null;
  }
  await rename(partialPath, emlPath);
  const raw = await readFile(emlPath);
  const headers = await readHeaders(raw);
  const envelopeFrom = envelope.mailFrom ? envelope.mailFrom.address : "";
  const summary = {
    id,
    // The From header is who the message is from; the envelope sender is the Worker's VERP
    // return path (bounce+...), which says nothing to a reader. A message without a From header
    // shows the envelope sender instead.
    from: headers.from || envelopeFrom,
    envelopeFrom,
    to: envelope.rcptTo.map((recipient) => recipient.address),
    subject: headers.subject,
    receivedAt: receivedAt.toISOString(),
    size: raw.length,
  };
  await writeFile(path.join(dir, `${id}.json`), JSON.stringify(summary, null, 2) + "\n");
  return summary;
}

/** `20260427-101530123-3fa9c2d1`: UTC date, time to the millisecond, random; sorts by arrival. */
function newMessageId(date) {
  const iso = date.toISOString();
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 23).replace(/[:.]/g, "")}-${randomBytes(4).toString("hex")}`;
}

/** The bytes before the first empty line. */
export function headerBlock(raw) {
  const ends = [raw.indexOf("\r\n\r\n"), raw.indexOf("\n\n")].filter((i) => i >= 0);
  return ends.length ? raw.subarray(0, Math.min(...ends)) : raw;
}

/** The decoded Subject and From, parsing only the header block (a message may carry 30 MB of attachments). */
async function readHeaders(raw) {
  try {
    const email = await PostalMime.parse(Buffer.concat([headerBlock(raw), Buffer.from("\r\n\r\n")]));
    return { subject: email.subject ?? "", from: formatAddresses(email.from) };
  } catch {
    return { subject: "", from: "" };
  }
}

/** Every stored message, newest first. */
export async function listMessages(dir) {
  const names = await readdir(dir).catch((err) => (err.code === "ENOENT" ? [] : Promise.reject(err)));
  const summaries = [];
  for (const name of names) {
    if (!name.endsWith(".json") || !ID_PATTERN.test(name.slice(0, -5))) continue;
    const summary = await readSummary(dir, name.slice(0, -5));
    if (summary) summaries.push(summary);
  }
  return summaries.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt) || b.id.localeCompare(a.id));
}

async function readSummary(dir, id) {
  try {
    const { from = "", envelopeFrom, to = [], subject = "", receivedAt = "", size = 0 } = JSON.parse(await readFile(path.join(dir, `${id}.json`), "utf8"));
    // A sidecar written before envelopeFrom existed holds the envelope sender in `from`.
    return { id, from, envelopeFrom: envelopeFrom ?? from, to, subject, receivedAt, size };
  } catch (err) {
    if (err.code === "ENOENT" || err instanceof SyntaxError) return null; // deleted meanwhile, or half-written
    throw err;
  }
}

/** One message's summary and raw bytes, or null when there is no such message. */
export async function readMessage(dir, id) {
  if (!ID_PATTERN.test(id)) return null;
  const summary = await readSummary(dir, id);
  if (!summary) return null;
  const raw = await readFile(path.join(dir, `${id}.eml`)).catch((err) => (err.code === "ENOENT" ? null : Promise.reject(err)));
  return raw && { summary, raw };
}

/** Deletes every stored message (only files the mailbox wrote); returns how many there were. */
export async function clearMessages(dir) {
  const names = await readdir(dir).catch((err) => (err.code === "ENOENT" ? [] : Promise.reject(err)));
  let count = 0;
  for (const name of names) {
    const match = /^(.+)\.(eml|json)$/.exec(name);
    if (!match || !ID_PATTERN.test(match[1])) continue;
    await rm(path.join(dir, name), { force: true });
    if (match[2] === "json") count++;
  }
  return count;
}

/** The parts a reader looks at; a message postal-mime cannot parse is shown as plain text. */
export async function parseMessage(raw) {
  try {
    return await PostalMime.parse(raw);
  } catch {
    return { headers: [], subject: "", html: undefined, text: raw.toString("utf8") };
  }
}

/** The http(s) links of a message, HTML part first, each once. */
export function extractLinks({ html, text }) {
  const links = new Set();
  for (const match of (html ?? "").matchAll(/\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    links.add(decodeEntities((match[1] ?? match[2] ?? match[3]).trim()));
  }
  for (const match of (text ?? "").matchAll(/https?:\/\/[^\s<>"]+/g)) links.add(match[0].replace(/[.,;:!?)\]]+$/, ""));
  return [...links].filter((link) => /^https?:\/\//i.test(link));
}

const NAMED_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

export function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    const key = name.toLowerCase();
    return Object.hasOwn(NAMED_ENTITIES, key) ? NAMED_ENTITIES[key] : whole; // &constructor; is not an entity
  });
}

/** `2026-04-27 12:15:30` in this machine's time zone (the reader's, for a local tool). */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

// Scripts are off everywhere: the pages have none, and an email's HTML must not run any. The
// message page keeps images, styles and frames open because its srcdoc iframe inherits this policy
// and the tracking pixel has to load.
const LIST_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'";
const MESSAGE_POLICY = "script-src 'none'; object-src 'none'; form-action 'none'";

async function handleRequest(dir, smtpAddress, req, res) {
  const { pathname } = new URL(req.url ?? "/", "http://mailbox");
  const method = req.method === "HEAD" ? "GET" : req.method;
  if (pathname === "/") {
    if (method !== "GET") return sendMethodNotAllowed(res, "GET, HEAD");
    const origin = `http://${req.headers.host ?? "127.0.0.1"}`;
    return sendHtml(res, renderList(await listMessages(dir), { smtpAddress, origin, dir }), LIST_POLICY);
  }
  if (pathname === "/api/messages") {
    if (method === "GET") return sendJson(res, 200, await listMessages(dir));
    if (method === "DELETE") return sendJson(res, 200, { deleted: await clearMessages(dir) });
    return sendMethodNotAllowed(res, "GET, HEAD, DELETE");
  }
  const route = /^\/messages\/([^/]+?)(\.eml)?$/.exec(pathname);
  const message = route && (await readMessage(dir, route[1]));
  if (!message) return send(res, 404, "text/plain; charset=utf-8", "Not found\n");
  if (method !== "GET") return sendMethodNotAllowed(res, "GET, HEAD");
  if (route[2]) {
    return send(res, 200, "message/rfc822", message.raw, { "content-disposition": `attachment; filename="${message.summary.id}.eml"` });
  }
  const email = await parseMessage(message.raw);
  return sendHtml(res, renderMessage(message.summary, email, extractLinks(email), message.raw), MESSAGE_POLICY);
}

function send(res, status, contentType, body, headers = {}) {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers });
  res.end(body);
}
const sendHtml = (res, html, policy) => send(res, 200, "text/html; charset=utf-8", html, { "content-security-policy": policy });
const sendJson = (res, status, value) => send(res, status, "application/json", JSON.stringify(value) + "\n");
const sendMethodNotAllowed = (res, allow) => send(res, 405, "text/plain; charset=utf-8", "Method not allowed\n", { allow });

if (isMainModule()) {
  const dir = process.env.MAILBOX_DIR || DEFAULT_MAILBOX_DIR;
  try {
    const mailbox = await startMailbox({
      smtpPort: Number(process.env.MAILBOX_SMTP_PORT || 2525),
      httpPort: Number(process.env.MAILBOX_HTTP_PORT || 8025),
      dir,
      onMessage: (m) => console.log(`Received "${m.subject}" for ${m.to.join(", ")}: ${m.id}`),
    });
    console.log(`Mailbox on http://127.0.0.1:${mailbox.httpPort}/ (SMTP on 127.0.0.1:${mailbox.smtpPort}, security none), messages in ${dir}`);
    for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => mailbox.close().then(() => process.exit(0)));
  } catch (err) {
    console.error(`Cannot start the mailbox: ${err.message}. Set MAILBOX_SMTP_PORT / MAILBOX_HTTP_PORT to use other ports.`);
    process.exit(1);
  }
}

function isMainModule() {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false; // argv[1] is not a file (node -e, a REPL): imported, not run
  }
}
