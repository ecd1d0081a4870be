// One TCP (or TLS) connection to the SMTP relay: reads whole replies, writes commands, upgrades
// to TLS, with a timeout on every step. Bindings: none; it opens TCP with cloudflare:sockets.
import type { connect } from "cloudflare:sockets";
import { type SmtpReply, takeReply } from "./smtp-wire";

export type SmtpStage = "connect" | "greeting" | "ehlo" | "starttls" | "auth" | "rset" | "mail" | "rcpt" | "data" | "done";

export const DEFAULT_REPLY_TIMEOUT_MS = 30_000; // per reply read (and per connect or write), not per session
const QUIT_TIMEOUT_MS = 5_000; // QUIT is a courtesy: a relay that never answers it must not hold the consumer
const MAX_REPLY_CHARS = 64 * 1024; // a relay streaming an endless reply is broken, not slow

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a session ended early; `reply` is absent when the network (not the relay) ended it. */
export class SessionEnd extends Error {
  constructor(
    readonly stage: SmtpStage,
    message: string,
    readonly reply?: SmtpReply,
    readonly connectionFailed = false,
  ) {
    super(message);
  }
}

type Socket = ReturnType<typeof connect>;

export class SmtpConnection {
  stage: SmtpStage = "connect";
  /** True once a reply has arrived over TLS, so a failed handshake does not count as a TLS session. */
  tls = false;
  #secure: boolean;
  #handshakePending = false;
  #buffer = "";
  #decoder = new TextDecoder();
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(
    private socket: Socket,
    private readonly timeoutMs: number,
    implicitTls: boolean,
  ) {
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

  /**
   * After a failed pipelined group, reads the `count` replies still owed (briefly). True when the
   * relay may be waiting for message data (DATA got its 354, or the state is unknown): then only
   * closing the connection, never a QUIT that would be taken as message text, ends it safely.
   */
  async dataMayBeOpen(count: number): Promise<boolean> {
    try {
      let open = false;
      for (let i = 0; i < count; i++) if ((await this.read(Math.min(this.timeoutMs, QUIT_TIMEOUT_MS))).code === 354) open = true;
      return open;
    } catch {
      return true;
    }
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
