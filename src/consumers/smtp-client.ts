// SMTP client the delivery consumer uses to hand messages to the configured relay (port 25 is
// closed on Cloudflare, so it is always a relay). One session per relay carries many messages:
// a pool keeps up to `size` sessions open for one consumer invocation, says RSET between messages,
// pipelines MAIL FROM, RCPT TO and DATA when the relay offers PIPELINING (RFC 2920), and drops a
// session after any error or unexpected reply so the next message starts on a fresh one.
// Bindings: none; it opens TCP with cloudflare:sockets.
import { connect } from "cloudflare:sockets";
import { limiter } from "./limiter";
import { errorMessage, SessionEnd, type SmtpConnection, type SmtpStage } from "./smtp-connection";
import { endSession, openSession, type Session, type SmtpRelay, sessionKey, transaction } from "./smtp-session";
import { extractEnhancedCode, type SmtpReply } from "./smtp-wire";

export type { SmtpStage } from "./smtp-connection";
export type { SmtpRelay } from "./smtp-session";
export { dotStuff, encodeDataBody, extractEnhancedCode, normaliseLineEndings, parseEhloExtensions, type SmtpReply, takeReply } from "./smtp-wire";

export type SmtpSecurity = SmtpRelay["security"];
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

export class SmtpPool {
  #idle: Session[] = [];
  #busy = 0;
  readonly #limit: ReturnType<typeof limiter>;

  /** `size`: sessions open at once (Workers allow 6 open connections per invocation, and queue and R2 calls need one). */
  constructor(
    private readonly size: number,
    private readonly connectFn: typeof connect = connect,
  ) {
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
    const finish = (fields: Omit<SmtpOutcome, "tls" | "sessionSeconds">): SmtpOutcome => ({
      ...fields,
      tls: holder.conn?.tls ?? false,
      sessionSeconds: (performance.now() - startedMs) / 1000,
    });
    // A CR or LF in an address would let the caller's data inject SMTP commands.
    if (/[\r\n<>]/.test(envelope.from + envelope.to)) {
      return finish({
        ok: false,
        code: 0,
        enhancedCode: "",
        message: "Envelope address contains CR, LF or angle brackets",
        stage: "mail",
        connectionFailed: false,
      });
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
  return {
    ok: false,
    code: error.reply?.code ?? 0,
    enhancedCode: extractEnhancedCode(error.message),
    message: error.message,
    stage: error.stage,
    connectionFailed: error.connectionFailed,
  };
}

/** Runs one SMTP session for one message. Never throws: every failure is an outcome. */
export async function deliverOverSmtp(
  relay: SmtpRelay,
  envelope: { from: string; to: string },
  mime: string,
  connectFn: typeof connect = connect,
): Promise<SmtpOutcome> {
  const pool = new SmtpPool(1, connectFn);
  try {
    return await pool.deliver(relay, envelope, mime);
  } finally {
    await pool.close();
  }
}
