// One SMTP session with the relay, for SmtpPool (src/consumers/smtp-client.ts): opening it (connect,
// greeting, EHLO, STARTTLS, AUTH), one message's transaction on it (RSET between messages,
// PIPELINING when offered), and ending it. Bindings: none; it opens TCP with cloudflare:sockets.
import type { connect } from "cloudflare:sockets";
import { encodeBase64 } from "../domain/base64url";
import { DEFAULT_REPLY_TIMEOUT_MS, SessionEnd, SmtpConnection, type SmtpStage } from "./smtp-connection";
import { encodeDataBody, parseEhloExtensions, type SmtpReply } from "./smtp-wire";

export interface SmtpRelay {
  host: string;
  port: number;
  security: "starttls" | "tls" | "none";
  user?: string;
  password?: string;
  heloName: string;
  timeoutMs?: number;
}

export interface Session {
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
export function sessionKey(relay: SmtpRelay): string {
  return JSON.stringify([relay.host, relay.port, relay.security, relay.user ?? "", relay.heloName]);
}

/** Connect, greeting, EHLO, STARTTLS and AUTH. `holder.conn` is set as soon as there is one, so a failure can still be reported with it. */
export async function openSession(relay: SmtpRelay, connectFn: typeof connect, holder: { conn?: SmtpConnection }): Promise<Session> {
  const secureTransport = relay.security === "tls" ? "on" : relay.security === "starttls" ? "starttls" : "off";
  const conn = new SmtpConnection(
    connectFn({ hostname: relay.host, port: relay.port }, { secureTransport, allowHalfOpen: false }),
    relay.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
    relay.security === "tls",
  );
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
export async function transaction(session: Session, envelope: { from: string; to: string }, mime: string): Promise<SmtpReply> {
  const { conn, extensions } = session;
  const steps: Array<[line: string, stage: SmtpStage, expected: 2 | 3]> = session.messages > 0 ? [["RSET", "rset", 2]] : [];
  steps.push(
    [`MAIL FROM:<${envelope.from}>${mailParameters(envelope, mime, extensions)}`, "mail", 2],
    [`RCPT TO:<${envelope.to}>`, "rcpt", 2],
    ["DATA", "data", 3],
  );
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
export async function endSession(conn: SmtpConnection, error?: unknown): Promise<void> {
  // After a network failure (or a reply that was not SMTP) there is nobody sensible to say QUIT to,
  // and after a 421 the relay is closing the connection itself (RFC 5321 3.8).
  const networkGone = error !== undefined && (!(error instanceof SessionEnd) || error.connectionFailed || error.reply?.code === 421);
  const owed = (error as { owed?: number } | undefined)?.owed ?? 0;
  if (!networkGone && !(owed > 0 && (await conn.dataMayBeOpen(owed)))) await conn.quit();
  await conn.close();
}
