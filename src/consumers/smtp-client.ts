// SMTP client the delivery consumer uses to hand messages to the configured relay (port 25 is
// closed on Cloudflare, so it is always a relay). One session per relay carries many messages:
// a pool keeps up to `size` sessions open for one consumer invocation, says RSET between messages,
// pipelines MAIL FROM, RCPT TO and DATA when the relay offers PIPELINING (RFC 2920), and drops a
// session after any error or unexpected reply so the next message starts on a fresh one.
// Bindings: none; it opens TCP with cloudflare:sockets.
import { connect } from "cloudflare:sockets";
import { encodeBase64 } from "../domain/base64url";
import { limiter } from "./limiter";
import { DEFAULT_REPLY_TIMEOUT_MS, errorMessage, SessionEnd, SmtpConnection, type SmtpStage } from "./smtp-connection";
import { encodeDataBody, extractEnhancedCode, parseEhloExtensions, type SmtpReply } from "./smtp-wire";

export type { SmtpStage } from "./smtp-connection";
export { dotStuff, encodeDataBody, extractEnhancedCode, normaliseLineEndings, parseEhloExtensions, takeReply, type SmtpReply } from "./smtp-wire";

export type SmtpSecurity = "starttls" | "tls" | "none";
export interface SmtpRelay { host: string; port: number; security: SmtpSecurity; user?: string; password?: string; heloName: string; timeoutMs?: number }
export interface SmtpOutcome {
  ok: boolean; // true only when the relay answered 2xx to the end of DATA
  code: number; // last reply code; 0 when no reply was read (connection failure, timeout, drop)
  enhancedCode: string; // RFC 3463 code from the reply text, e.g. "5.1.1", else ""
  message: string; // the reply text (multi-line replies joined with a space) or the network error
  stage: SmtpStage; // where the message's transaction ended: the failing step, or "done"
  tls: boolean; // whether a reply arrived over TLS (a failed handshake does not count)
  sessionSeconds: number; // float seconds from this message's start (connecting, when it opened the session) to its end
  connectionFailed: boolean; // a network error, timeout, drop or failed TLS handshake: the caller retries these
}

/** Messages one session carries before it is closed and a fresh one opened (nodemailer's pool default; some relays cap it lower and say 421, see below). */
export const MAX_MESSAGES_PER_SESSION = 100;

interface Session {
  key: string;
  conn: SmtpConnection;
  extensions: Map<string, string>;
  messages: number;
}

function isAscii(text: string): boolean {
  return !/[^\x00-\x7f]/.test(text);
}

function base64Utf8(text: string): string {
  return encodeBase64(new TextEncoder().encode(text));
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

/** Sessions of one relay, with the same EHLO name and login, can carry each other's messages. */
function sessionKey(relay: SmtpRelay): string {
  return JSON.stringify([relay.host, relay.port, relay.security, relay.user ?? "", relay.heloName]);
}

/** Connect, greeting, EHLO, STARTTLS and AUTH. `holder.conn` is set as soon as there is one, so a failure can still be reported with it. */
async function openSession(relay: SmtpRelay, connectFn: typeof connect, holder: { conn?: SmtpConnection }): Promise<Session> {
  const secureTransport = relay.security === "tls" ? "on" : relay.security === "starttls" ? "starttls" : "off";
  const conn = new SmtpConnection(connectFn({ hostname: relay.host, port: relay.port }, { secureTransport, allowHalfOpen: false }), relay.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS, relay.security === "tls");
  holder.conn = conn;
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
  return { key: sessionKey(relay), conn, extensions, messages: 0 };
}

/**
 * One message on an open session: RSET first when the session has carried one before, then MAIL
 * FROM, RCPT TO and DATA, in one write when the relay offers PIPELINING, then the body. Throws
 * SessionEnd at the first reply that is not the expected one (`owed`: replies still on their way).
 */
async function transaction(session: Session, envelope: { from: string; to: string }, mime: string): Promise<SmtpReply> {
  const { conn, extensions } = session;
  const steps: Array<[line: string, stage: SmtpStage, expected: 2 | 3]> = session.messages > 0 ? [["RSET", "rset", 2]] : [];
  steps.push([`MAIL FROM:<${envelope.from}>${mailParameters(envelope, mime, extensions)}`, "mail", 2], [`RCPT TO:<${envelope.to}>`, "rcpt", 2], ["DATA", "data", 3]);
  if (extensions.has("PIPELINING")) {
    conn.stage = steps[0]![1];
    await conn.write(steps.map(([line]) => `${line}\r\n`).join(""));
    for (const [i, [, stage, expected]] of steps.entries()) {
      conn.stage = stage;
      try {
        await conn.expect(expected);
      } catch (error) {
        throw Object.assign(error as object, { owed: steps.length - i - 1 });
      }
    }
  } else {
    for (const [line, stage, expected] of steps) await conn.command(line, stage, expected);
  }
  await conn.write(encodeDataBody(mime));
  return conn.expect(2);
}

/** Ends a session that failed or is done: QUIT when the relay can take it, then close. */
async function endSession(conn: SmtpConnection, error?: unknown): Promise<void> {
  // After a network failure (or a reply that was not SMTP) there is nobody sensible to say QUIT to,
  // and after a 421 the relay is closing the connection itself (RFC 5321 3.8).
  const networkGone = error !== undefined && (!(error instanceof SessionEnd) || error.connectionFailed || error.reply?.code === 421);
  const owed = (error as { owed?: number } | undefined)?.owed ?? 0;
  if (!networkGone && !(owed > 0 && (await conn.dataMayBeOpen(owed)))) await conn.quit();
  await conn.close();
}

export class SmtpPool {
  #idle: Session[] = [];
  #busy = 0;
  readonly #limit: ReturnType<typeof limiter>;

  /** `size`: sessions open at once (Workers allow 6 open connections per invocation, and queue and R2 calls need one). */
  constructor(private readonly size: number, private readonly connectFn: typeof connect = connect) {
    this.#limit = limiter(size);
  }

  /** Hands one message to the relay. Never throws: every failure is an outcome. */
  deliver(relay: SmtpRelay, envelope: { from: string; to: string }, mime: string): Promise<SmtpOutcome> {
    return this.#limit(async () => {
      this.#busy++;
      try {
        return await this.#deliver(relay, envelope, mime);
      } finally {
        this.#busy--;
      }
    });
  }

  /** QUIT and close every idle session; call once the invocation has nothing more to send. */
  async close(): Promise<void> {
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((session) => endSession(session.conn)));
  }

  async #deliver(relay: SmtpRelay, envelope: { from: string; to: string }, mime: string): Promise<SmtpOutcome> {
    const startedMs = performance.now();
    const holder: { conn?: SmtpConnection } = {};
    const finish = (fields: Omit<SmtpOutcome, "tls" | "sessionSeconds">): SmtpOutcome => ({ ...fields, tls: holder.conn?.tls ?? false, sessionSeconds: (performance.now() - startedMs) / 1000 });
    // A CR or LF in an address would let the caller's data inject SMTP commands.
    if (/[\r\n<>]/.test(envelope.from + envelope.to)) {
      return finish({ ok: false, code: 0, enhancedCode: "", message: "Envelope address contains CR, LF or angle brackets", stage: "mail", connectionFailed: false });
    }
    const key = sessionKey(relay);
    const reused = this.#takeIdle(key);
    if (reused) {
      holder.conn = reused.conn;
      try {
        return finish(await this.#done(reused, await transaction(reused, envelope, mime)));
      } catch (error) {
        await endSession(reused.conn, error);
        // The relay ended the session between messages (idle timeout, a cap on messages with 421):
        // the message was never started, so it goes on a fresh session instead of failing.
        if (!(error instanceof SessionEnd && error.stage === "rset")) return finish(failure(error, reused.conn));
      }
    }
    await this.#makeRoom();
    try {
      const session = await openSession(relay, this.connectFn, holder);
      return finish(await this.#done(session, await transaction(session, envelope, mime)));
    } catch (error) {
      if (holder.conn) await endSession(holder.conn, error);
      return finish(failure(error, holder.conn));
    }
  }

  /** A delivered message's outcome; its session goes back to the pool unless it has carried its share. */
  async #done(session: Session, accepted: SmtpReply): Promise<Omit<SmtpOutcome, "tls" | "sessionSeconds">> {
    session.messages++;
    if (session.messages < MAX_MESSAGES_PER_SESSION) this.#idle.push(session);
    else await endSession(session.conn);
    const message = accepted.lines.join(" ");
    return { ok: true, code: accepted.code, enhancedCode: extractEnhancedCode(message), message, stage: "done", connectionFailed: false };
  }

  #takeIdle(key: string): Session | undefined {
    const i = this.#idle.findIndex((s) => s.key === key);
    return i < 0 ? undefined : this.#idle.splice(i, 1)[0];
  }

  /** Keeps open sessions (busy and idle) within `size`: an idle one of another relay or EHLO name gives way. */
  async #makeRoom(): Promise<void> {
    while (this.#idle.length > 0 && this.#idle.length + this.#busy > this.size) await endSession(this.#idle.shift()!.conn);
  }
}

/** The outcome of a session that ended early. */
function failure(error: unknown, conn: SmtpConnection | undefined): Omit<SmtpOutcome, "tls" | "sessionSeconds"> {
  if (!(error instanceof SessionEnd)) {
    return { ok: false, code: 0, enhancedCode: "", message: errorMessage(error), stage: conn?.stage ?? "connect", connectionFailed: true };
  }
  return { ok: false, code: error.reply?.code ?? 0, enhancedCode: extractEnhancedCode(error.message), message: error.message, stage: error.stage, connectionFailed: error.connectionFailed };
}

/** Runs one SMTP session for one message. Never throws: every failure is an outcome. */
export async function deliverOverSmtp(relay: SmtpRelay, envelope: { from: string; to: string }, mime: string, connectFn: typeof connect = connect): Promise<SmtpOutcome> {
  const pool = new SmtpPool(1, connectFn);
  try {
    return await pool.deliver(relay, envelope, mime);
  } finally {
    await pool.close();
  }
}
