// SMTP client the delivery consumer uses to hand one message to the configured relay (port 25 is
// closed on Cloudflare, so it is always a relay). Bindings: none; it opens TCP with cloudflare:sockets.
import { connect } from "cloudflare:sockets";
import { encodeBase64 } from "../domain/base64url";

export type SmtpSecurity = "starttls" | "tls" | "none";
export interface SmtpRelay { host: string; port: number; security: SmtpSecurity; user?: string; password?: string; heloName: string; timeoutMs?: number }
export type SmtpStage = "connect" | "greeting" | "ehlo" | "starttls" | "auth" | "mail" | "rcpt" | "data" | "done";
export interface SmtpOutcome {
  ok: boolean; // true only when the relay answered 2xx to the end of DATA
  code: number; // last reply code; 0 when no reply was read (connection failure, timeout, drop)
  enhancedCode: string; // RFC 3463 code from the reply text, e.g. "5.1.1", else ""
  message: string; // the reply text (multi-line replies joined with a space) or the network error
  stage: SmtpStage; // where the session ended: the failing step, or "done"
  tls: boolean; // whether a reply arrived over TLS (a failed handshake does not count)
  sessionSeconds: number; // float seconds from connect to the end
  connectionFailed: boolean; // a network error, timeout, drop or failed TLS handshake: the caller retries these
}
export interface SmtpReply { code: number; lines: string[] }

const DEFAULT_REPLY_TIMEOUT_MS = 30_000; // per reply read (and per connect or write), not per session
const QUIT_TIMEOUT_MS = 5_000; // QUIT is a courtesy: a relay that never answers it must not hold the consumer
const MAX_REPLY_CHARS = 64 * 1024; // a relay streaming an endless reply is broken, not slow

/** Takes one complete reply (a multi-line one ends at "NNN " or a bare "NNN") off the front of `buffer`. */
export function takeReply(buffer: string): { reply: SmtpReply; rest: string } | null {
  const lines: string[] = [];
  let start = 0;
  for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n", start)) {
    const line = buffer.slice(start, end).replace(/\r$/, "");
    start = end + 1;
    const match = /^(\d{3})([ -]?)(.*)$/.exec(line);
    if (!match) throw new Error(`Malformed SMTP reply line: ${line.slice(0, 200)}`);
    lines.push(match[3]!);
    if (match[2] !== "-") return { reply: { code: Number(match[1]), lines }, rest: buffer.slice(start) };
  }
  return null;
}

/** RFC 3463 status code at the start of the reply text, e.g. "5.1.1"; "" when the relay sends none. */
export function extractEnhancedCode(text: string): string {
  return /^([245]\.\d{1,3}\.\d{1,3})(?!\S)/.exec(text.trimStart())?.[1] ?? "";
}

/** EHLO keywords (upper-cased) mapped to their parameters; the first reply line is the greeting. */
export function parseEhloExtensions(reply: SmtpReply): Map<string, string> {
  const extensions = new Map<string, string>();
  for (const line of reply.lines.slice(1)) {
    const [keyword = "", ...params] = line.trim().split(/\s+/);
    if (keyword) extensions.set(keyword.toUpperCase(), params.join(" "));
  }
  return extensions;
}

export function normaliseLineEndings(text: string): string {
  return text.replace(/\r\n|\r|\n/g, "\r\n");
}

/** RFC 5321 4.5.2: a leading "." gets a second one so no body line can end DATA early. */
export function dotStuff(crlfText: string): string {
  return crlfText.replace(/(^|\r\n)\./g, "$1..");
}

/** The bytes to send after the 354: normalised, dot-stuffed, and ended by CRLF.CRLF. */
export function encodeDataBody(mime: string): string {
  const body = dotStuff(normaliseLineEndings(mime));
  return `${body}${body === "" || body.endsWith("\r\n") ? "" : "\r\n"}.\r\n`;
}

function isAscii(text: string): boolean {
  return !/[^\x00-\x7f]/.test(text);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function base64Utf8(text: string): string {
  return encodeBase64(new TextEncoder().encode(text));
}

/** Why a session ended early; `reply` is absent when the network (not the relay) ended it. */
class SessionEnd extends Error {
  constructor(readonly stage: SmtpStage, message: string, readonly reply?: SmtpReply, readonly connectionFailed = false) {
    super(message);
  }
}

type Socket = ReturnType<typeof connect>;

class SmtpConnection {
  stage: SmtpStage = "connect";
  /** True once a reply has arrived over TLS, so a failed handshake does not count as a TLS session. */
  tls = false;
  #secure: boolean;
  #handshakePending = false;
  #buffer = "";
  #decoder = new TextDecoder();
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(private socket: Socket, private readonly timeoutMs: number, implicitTls: boolean) {
    this.#secure = implicitTls;
    this.#reader = socket.readable.getReader();
    this.#writer = socket.writable.getWriter();
  }

  async opened(): Promise<void> {
    await this.#withTimeout(this.socket.opened, "connecting");
  }

  async read(timeoutMs = this.timeoutMs): Promise<SmtpReply> {
    for (;;) {
      const taken = takeReply(this.#buffer);
      if (taken) {
        this.#buffer = taken.rest;
        this.tls = this.#secure;
        this.#handshakePending = false;
        return taken.reply;
      }
      const { value, done } = await this.#withTimeout(this.#reader.read(), "waiting for a reply", timeoutMs);
      if (done) throw new SessionEnd(this.#handshakePending ? "starttls" : this.stage, "Connection closed by the relay", undefined, true);
      this.#buffer += this.#decoder.decode(value, { stream: true });
      if (this.#buffer.length > MAX_REPLY_CHARS) throw new SessionEnd(this.stage, "Relay reply too long", undefined, true);
    }
  }

  async write(text: string): Promise<void> {
    await this.#withTimeout(this.#writer.write(new TextEncoder().encode(text)), "sending");
  }

  /** Sends `line` and reads the reply; anything but the expected class (2 or 3) ends the session. */
  async command(line: string, stage: SmtpStage, expectedClass: 2 | 3): Promise<SmtpReply> {
    this.stage = stage;
    await this.write(`${line}\r\n`);
    return this.expect(expectedClass);
  }

  async expect(expectedClass: 2 | 3): Promise<SmtpReply> {
    const reply = await this.read();
    if (Math.floor(reply.code / 100) !== expectedClass) throw new SessionEnd(this.stage, reply.lines.join(" "), reply);
    return reply;
  }

  upgradeToTls(hostname: string): void {
    // Bytes that arrived before the handshake could have been injected in clear text (the
    // STARTTLS command-injection class of bugs), so they must not be read as post-TLS replies.
    if (this.#buffer !== "") throw new SessionEnd("starttls", "Relay sent data after its STARTTLS reply", undefined, true);
    this.#reader.releaseLock();
    this.#writer.releaseLock();
    this.socket = this.socket.startTls({ expectedServerHostname: hostname });
    this.#reader = this.socket.readable.getReader();
    this.#writer = this.socket.writable.getWriter();
    this.#secure = true;
    this.#handshakePending = true;
  }

  async quit(): Promise<void> {
    try {
      this.stage = "done";
      await this.write("QUIT\r\n");
      await this.read(Math.min(this.timeoutMs, QUIT_TIMEOUT_MS));
    } catch {
      // The message's fate is already decided; a relay that hangs up on QUIT changes nothing.
    }
  }

  async close(): Promise<void> {
    await this.socket.close().catch(() => undefined);
  }

  async #withTimeout<T>(promise: Promise<T>, doing: string, timeoutMs = this.timeoutMs): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SessionEnd(this.stage, `Timed out after ${timeoutMs} ms ${doing}`, undefined, true)), timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } catch (error) {
      // workerd surfaces a failed STARTTLS handshake (untrusted or misnamed certificate) only on
      // the next read or write, as an opaque "internal error": name the step that really failed.
      if (this.#handshakePending) throw new SessionEnd("starttls", `TLS handshake failed: ${errorMessage(error)}`, undefined, true);
      if (error instanceof SessionEnd) throw error;
      throw new SessionEnd(this.stage, errorMessage(error), undefined, true);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function sayHello(conn: SmtpConnection, heloName: string): Promise<Map<string, string>> {
  try {
    return parseEhloExtensions(await conn.command(`EHLO ${heloName}`, "ehlo", 2));
  } catch (error) {
    // RFC 5321 4.1.1.1: a server that does not know EHLO answers 5xx, and HELO is the fallback.
    if (!(error instanceof SessionEnd) || !error.reply || error.reply.code < 500) throw error;
    await conn.command(`HELO ${heloName}`, "ehlo", 2);
    return new Map();
  }
}

async function authenticate(conn: SmtpConnection, user: string, password: string, extensions: Map<string, string>): Promise<void> {
  const mechanisms = (extensions.get("AUTH") ?? "").toUpperCase().split(/\s+/);
  if (mechanisms.includes("PLAIN")) {
    await conn.command(`AUTH PLAIN ${base64Utf8(`\0${user}\0${password}`)}`, "auth", 2);
  } else if (mechanisms.includes("LOGIN")) {
    await conn.command("AUTH LOGIN", "auth", 3);
    await conn.command(base64Utf8(user), "auth", 3);
    await conn.command(base64Utf8(password), "auth", 2);
  } else {
    throw new SessionEnd("auth", "Relay advertises neither AUTH PLAIN nor AUTH LOGIN");
  }
}

function mailParameters(envelope: { from: string; to: string }, mime: string, extensions: Map<string, string>): string {
  let params = "";
  if (!isAscii(mime) && extensions.has("8BITMIME")) params += " BODY=8BITMIME";
  if (!isAscii(envelope.from + envelope.to) && extensions.has("SMTPUTF8")) params += " SMTPUTF8";
  return params;
}

/** Runs one SMTP session for one recipient. Never throws: every failure is an outcome. */
export async function deliverOverSmtp(
  relay: SmtpRelay,
  envelope: { from: string; to: string },
  mime: string,
  connectFn: typeof connect = connect,
): Promise<SmtpOutcome> {
  const startedMs = performance.now();
  let conn: SmtpConnection | undefined;
  const finish = (fields: Omit<SmtpOutcome, "tls" | "sessionSeconds">): SmtpOutcome => ({
    ...fields,
    tls: conn?.tls ?? false,
    sessionSeconds: (performance.now() - startedMs) / 1000,
  });
  try {
    // A CR or LF in an address would let the caller's data inject SMTP commands.
    if (/[\r\n<>]/.test(envelope.from + envelope.to)) throw new SessionEnd("mail", "Envelope address contains CR, LF or angle brackets");
    const secureTransport = relay.security === "tls" ? "on" : relay.security === "starttls" ? "starttls" : "off";
    conn = new SmtpConnection(connectFn({ hostname: relay.host, port: relay.port }, { secureTransport, allowHalfOpen: false }), relay.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS, relay.security === "tls");
    await conn.opened();
    conn.stage = "greeting";
    await conn.expect(2);
    let extensions = await sayHello(conn, relay.heloName);
    if (relay.security === "starttls") {
      if (!extensions.has("STARTTLS")) throw new SessionEnd("starttls", "Relay does not advertise STARTTLS");
      await conn.command("STARTTLS", "starttls", 2);
      conn.upgradeToTls(relay.host);
      extensions = await sayHello(conn, relay.heloName);
    }
    if (relay.user !== undefined && relay.user !== "") await authenticate(conn, relay.user, relay.password ?? "", extensions);
    await conn.command(`MAIL FROM:<${envelope.from}>${mailParameters(envelope, mime, extensions)}`, "mail", 2);
    await conn.command(`RCPT TO:<${envelope.to}>`, "rcpt", 2);
    await conn.command("DATA", "data", 3);
    await conn.write(encodeDataBody(mime));
    const accepted = await conn.expect(2);
    await conn.quit();
    const message = accepted.lines.join(" ");
    return finish({ ok: true, code: accepted.code, enhancedCode: extractEnhancedCode(message), message, stage: "done", connectionFailed: false });
  } catch (error) {
    if (!(error instanceof SessionEnd)) {
      return finish({ ok: false, code: 0, enhancedCode: "", message: errorMessage(error), stage: conn?.stage ?? "connect", connectionFailed: true });
    }
    if (!error.connectionFailed) await conn?.quit();
    const code = error.reply?.code ?? 0;
    return finish({ ok: false, code, enhancedCode: extractEnhancedCode(error.message), message: error.message, stage: error.stage, connectionFailed: error.connectionFailed });
  } finally {
    await conn?.close();
  }
}
