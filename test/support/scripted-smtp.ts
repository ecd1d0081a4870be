/// <reference types="node" />
// A scripted SMTP relay for tests and benchmarks, run in Node (vitest globalSetup). Its behaviour
// is chosen by the RCPT local part, so any test can ask for any outcome without shared state:
//   ok...       250 (so is any local part not listed here)
//   temp...     451 4.7.1 Try again later
//   perm...     550 5.1.1 No such user
//   drop...     the connection is destroyed right after RCPT, with no reply
//   datafail... 250 to RCPT, then 554 5.7.1 Rejected at the end of DATA
//   flaky-N-... 451 4.7.1 for the first N RCPTs of that exact address, then 250
//   rset421...  any later RSET in that connection is answered 421 and the connection closed (a
//               relay capping messages per session)
// With `requireAuth` it offers AUTH PLAIN LOGIN and answers MAIL before AUTH with 530; with `tls`
// it offers STARTTLS and also listens on `tlsPort` for TLS from the first byte; with `pipelining`
// it offers PIPELINING (it always answers commands that arrive together in order, as RFC 2920 asks).
// Accepted messages (one record per accepted recipient, with the number of its connection) are
// served on an HTTP control port: GET /messages[?to=ADDR][&from=ADDR] -> JSON array,
// GET /sessions/N -> the commands connection N received, verbs grouped by the read they arrived
// in, GET /count -> {"accepted": n}, DELETE /messages -> clears the records (not the flaky counters).
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createSecureContext, createServer as createTlsServer, TLSSocket } from "node:tls";

export interface ScriptedSmtpOptions {
  requireAuth?: { user: string; pass: string };
  /** Offer STARTTLS on `port`, and open `tlsPort` speaking TLS from the first byte (SMTPS). */
  tls?: { key: string; cert: string };
  /** Offer PIPELINING in the EHLO reply. */
  pipelining?: boolean;
}
/** What one connection received: command verbs (upper case) grouped by the read they arrived in. */
export interface RecordedSession {
  id: number;
  reads: string[][];
}
export interface RecordedMessage {
  id: number;
  from: string;
  to: string;
  /** The DATA payload after un-dot-stuffing, line endings exactly as sent, without the final ".\r\n". */
  data: string;
  authenticated: boolean;
  authUser: string | null;
  authMechanism: "PLAIN" | "LOGIN" | null;
  /** Whatever followed MAIL FROM:<...>, e.g. " BODY=8BITMIME". */
  mailParams: string;
  helo: string;
  tls: boolean;
  receivedAt: string;
  /** The connection it came over, numbered from 1 in the order they were opened. */
  session: number;
}
export interface ScriptedSmtp {
  port: number;
  tlsPort?: number;
  controlPort: number;
  close(): Promise<void>;
}

const MAX_LINE_BYTES = 4096; // RFC 5321 allows 512 for commands; AUTH lines need a little more
const MAX_MESSAGE_BYTES = 25 * 1024 * 1024; // larger messages get 552, as a real relay would answer
const MAX_DATA_LINE_BYTES = 1024 * 1024; // far above RFC 5321's 1000, so only a runaway line trips it
const MAX_RECORDED_MESSAGES = 10_000; // the oldest records go first so a long benchmark stays bounded
const MAX_RECORDED_BYTES = 256 * 1024 * 1024;
const MAX_FLAKY_ADDRESSES = 100_000;
const IDLE_TIMEOUT_MS = 60_000;
const MAX_RECORDED_SESSIONS = 10_000; // the oldest go first
const MAX_READS_PER_SESSION = 1_000; // a long benchmark session keeps its first reads only

interface Session {
  id: number;
  /** Answer the next RSET with 421 and hang up (set by an accepted rset421 recipient). */
  closeOnRset: boolean;
  helo: string;
  tls: boolean;
  authUser: string | null;
  authMechanism: "PLAIN" | "LOGIN" | null;
  from: string | null;
  mailParams: string;
  recipients: string[];
  /** Set while receiving DATA: the un-stuffed lines so far and their size. */
  data: { chunks: Buffer[]; bytes: number; tooBig: boolean; reject: boolean } | null;
  /** Set while an AUTH exchange waits for the client's next line. */
  auth: { mechanism: "PLAIN" | "LOGIN"; user?: string } | null;
}

export async function startScriptedSmtp(options: ScriptedSmtpOptions = {}): Promise<ScriptedSmtp> {
  const messages: RecordedMessage[] = [];
  let recordedBytes = 0;
  let accepted = 0;
  let nextId = 1;
  const flakyCounts = new Map<string, number>();
  const sessionLogs = new Map<number, RecordedSession>();
  let nextSessionId = 1;
  const sockets = new Set<Socket>();
  const secureContext = options.tls ? createSecureContext({ key: options.tls.key, cert: options.tls.cert }) : undefined;

  function record(session: Session, data: string): void {
    for (const to of session.recipients) {
      const message: RecordedMessage = {
        id: nextId++,
        from: session.from ?? "",
        to,
        data,
        authenticated: session.authUser !== null,
        authUser: session.authUser,
        authMechanism: session.authMechanism,
        mailParams: session.mailParams,
        helo: session.helo,
        tls: session.tls,
        receivedAt: new Date().toISOString(),
        session: session.id,
      };
      messages.push(message);
      recordedBytes += data.length;
      accepted++;
    }
    while (messages.length > MAX_RECORDED_MESSAGES || recordedBytes > MAX_RECORDED_BYTES) recordedBytes -= messages.shift()!.data.length;
  }

  function rcptReply(address: string): string | "drop" {
    const at = address.lastIndexOf("@");
    const local = (at > 0 ? address.slice(0, at) : address).toLowerCase();
    const flaky = /^flaky-(\d+)-/.exec(local);
    if (flaky) {
      if (flakyCounts.size >= MAX_FLAKY_ADDRESSES) flakyCounts.clear();
      const seen = (flakyCounts.get(address) ?? 0) + 1;
      flakyCounts.set(address, seen);
      return seen <= Number(flaky[1]) ? "451 4.7.1 Try again later" : "250 2.1.5 OK";
    }
    if (local.startsWith("temp")) return "451 4.7.1 Try again later";
    if (local.startsWith("perm")) return "550 5.1.1 No such user";
    if (local.startsWith("drop")) return "drop";
    return "250 2.1.5 OK";
  }

  function checkCredentials(user: string, pass: string): boolean {
    return options.requireAuth !== undefined && user === options.requireAuth.user && pass === options.requireAuth.pass;
  }

  function finishAuth(session: Session, mechanism: "PLAIN" | "LOGIN", user: string, pass: string): string {
    session.auth = null;
    if (!checkCredentials(user, pass)) return "535 5.7.8 Authentication credentials invalid";
    Object.assign(session, { authUser: user, authMechanism: mechanism });
    return "235 2.7.0 Authentication successful";
  }

  function decodePlain(base64: string): [string, string] {
    const [, user = "", pass = ""] = Buffer.from(base64, "base64").toString("utf8").split("\0");
    return [user, pass];
  }

  /** Answers one command line: the reply, or "drop", "quit" or "starttls" for the caller to act on. */
  function handleCommand(session: Session, line: string): string {
    if (session.auth) {
      if (line === "*") return ((session.auth = null), "501 5.0.0 Authentication cancelled");
      const value = Buffer.from(line, "base64").toString("utf8");
      if (session.auth.mechanism === "PLAIN") return finishAuth(session, "PLAIN", ...decodePlain(line));
      if (session.auth.user === undefined) return ((session.auth.user = value), "334 UGFzc3dvcmQ6");
      return finishAuth(session, "LOGIN", session.auth.user, value);
    }
    const [verb = "", ...rest] = line.split(" ");
    const arg = rest.join(" ");
    switch (verb.toUpperCase()) {
      case "EHLO": {
        Object.assign(session, { helo: arg, from: null, recipients: [], mailParams: "" });
        const extensions = ["8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", `SIZE ${MAX_MESSAGE_BYTES}`];
        if (secureContext && !session.tls) extensions.push("STARTTLS");
        if (options.requireAuth) extensions.push("AUTH PLAIN LOGIN");
        if (options.pipelining) extensions.push("PIPELINING");
        return ["scripted.test greets " + arg, ...extensions].map((text, i, all) => `250${i === all.length - 1 ? " " : "-"}${text}`).join("\r\n");
      }
      case "HELO":
        Object.assign(session, { helo: arg, from: null, recipients: [], mailParams: "" });
        return "250 scripted.test";
      case "STARTTLS":
        if (!secureContext || session.tls) return "503 5.5.1 TLS not available";
        return "starttls";
      case "AUTH": {
        if (!options.requireAuth) return "503 5.5.1 AUTH not offered";
        if (session.authUser !== null) return "503 5.5.1 Already authenticated";
        const [mechanism = "", initial] = arg.split(" ");
        if (mechanism.toUpperCase() === "PLAIN") {
          if (initial !== undefined) return finishAuth(session, "PLAIN", ...decodePlain(initial));
          return ((session.auth = { mechanism: "PLAIN" }), "334 ");
        }
        if (mechanism.toUpperCase() === "LOGIN") {
          session.auth = { mechanism: "LOGIN" };
          if (initial === undefined) return "334 VXNlcm5hbWU6";
          return ((session.auth.user = Buffer.from(initial, "base64").toString("utf8")), "334 UGFzc3dvcmQ6");
        }
        return "504 5.5.4 Unrecognized authentication type";
      }
      case "MAIL": {
        const match = /^FROM:\s*<([^>]*)>(.*)$/i.exec(arg);
        if (!match) return "501 5.5.4 Syntax: MAIL FROM:<address>";
        if (options.requireAuth && session.authUser === null) return "530 5.7.0 Authentication required";
        Object.assign(session, { from: match[1], mailParams: match[2], recipients: [] });
        return "250 2.1.0 OK";
      }
      case "RCPT": {
        const match = /^TO:\s*<([^>]+)>/i.exec(arg);
        if (!match) return "501 5.5.4 Syntax: RCPT TO:<address>";
        if (session.from === null) return "503 5.5.1 MAIL first";
        const reply = rcptReply(match[1]!);
        if (reply.startsWith("250")) session.recipients.push(match[1]!);
        if (reply.startsWith("250") && match[1]!.toLowerCase().startsWith("rset421")) session.closeOnRset = true;
        return reply;
      }
      case "DATA":
        if (session.recipients.length === 0) return "503 5.5.1 RCPT first";
        session.data = { chunks: [], bytes: 0, tooBig: false, reject: session.recipients.some((r) => r.toLowerCase().startsWith("datafail")) };
        return "354 End data with <CR><LF>.<CR><LF>";
      case "RSET":
        if (session.closeOnRset) return "rset421";
        Object.assign(session, { from: null, recipients: [], mailParams: "" });
        return "250 2.0.0 OK";
      case "NOOP":
        return "250 2.0.0 OK";
      case "QUIT":
        return "quit";
      default:
        return "500 5.5.2 Command not recognized";
    }
  }

  /** Handles one DATA line (with its own line ending); returns the final reply once "." arrives. */
  function handleDataLine(session: Session, line: Buffer, previousEndedWithCrlf: boolean): string | null {
    const data = session.data!;
    if (previousEndedWithCrlf && line.length === 3 && line.toString("latin1") === ".\r\n") {
      const envelope = { ...session };
      Object.assign(session, { data: null, from: null, recipients: [], mailParams: "" });
      if (data.tooBig) return "552 5.3.4 Message too big";
      if (data.reject) return "554 5.7.1 Rejected";
      record(envelope, Buffer.concat(data.chunks).toString("utf8"));
      return `250 2.0.0 OK queued as scripted-${nextId - 1}`;
    }
    const unstuffed = line[0] === 0x2e ? line.subarray(1) : line;
    data.bytes += unstuffed.length;
    if (data.bytes > MAX_MESSAGE_BYTES) Object.assign(data, { tooBig: true, chunks: [] });
    else if (!data.tooBig) data.chunks.push(Buffer.from(unstuffed));
    return null;
  }

  function serve(socket: Socket, startsSecure: boolean): void {
    sockets.add(socket);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const session: Session = {
      id: nextSessionId++,
      closeOnRset: false,
      helo: "",
      tls: startsSecure,
      authUser: null,
      authMechanism: null,
      from: null,
      mailParams: "",
      recipients: [],
      data: null,
      auth: null,
    };
    let pending: Buffer = Buffer.alloc(0);
    let previousEndedWithCrlf = true;
    let current = socket;

    const log: RecordedSession = { id: session.id, reads: [] };
    sessionLogs.set(log.id, log);
    if (sessionLogs.size > MAX_RECORDED_SESSIONS) sessionLogs.delete(sessionLogs.keys().next().value!);

    const onData = (chunk: Buffer): void => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const read: string[] = [];
      if (log.reads.length < MAX_READS_PER_SESSION) log.reads.push(read);
      for (let newline = pending.indexOf(0x0a); newline !== -1 && !current.destroyed; newline = pending.indexOf(0x0a)) {
        const line = pending.subarray(0, newline + 1);
        pending = pending.subarray(newline + 1);
        if (session.data) {
          const reply = handleDataLine(session, line, previousEndedWithCrlf);
          previousEndedWithCrlf = line.length >= 2 && line[line.length - 2] === 0x0d;
          if (reply) current.write(`${reply}\r\n`);
          continue;
        }
        const command = line.toString("utf8").replace(/\r?\n$/, "");
        if (!session.auth) read.push(command.split(" ")[0]!.toUpperCase());
        const reply = handleCommand(session, command);
        previousEndedWithCrlf = true;
        if (reply === "drop") return void current.destroy();
        if (reply === "rset421") return void current.end("421 4.7.0 Too many messages in this session\r\n");
        if (reply === "quit") return void current.end("221 2.0.0 Bye\r\n");
        if (reply === "starttls") return void upgrade();
        current.write(`${reply}\r\n`);
      }
      if (!session.data && pending.length > MAX_LINE_BYTES) current.end("500 5.5.6 Line too long\r\n");
      else if (session.data && pending.length > MAX_DATA_LINE_BYTES) {
        // A line this long breaks RFC 5321's 1000-octet limit: refuse the message, keep memory flat.
        Object.assign(session.data, { tooBig: true, chunks: [] });
        pending = Buffer.alloc(0);
        previousEndedWithCrlf = false;
      }
    };

    const upgrade = (): void => {
      // Anything pipelined after STARTTLS is discarded, as RFC 3207 requires of a server.
      pending = Buffer.alloc(0);
      current.write("220 2.0.0 Ready to start TLS\r\n");
      // Wrapped at once, not in the write callback: the client's ClientHello may already be on its way.
      current.removeListener("data", onData);
      const secure = new TLSSocket(current, { isServer: true, secureContext });
      secure.on("error", () => secure.destroy());
      secure.on("close", () => socket.destroy());
      // RFC 3207: the client must forget what it learnt in clear text, and so does the server.
      Object.assign(session, { tls: true, helo: "", authUser: null, authMechanism: null, from: null, recipients: [], mailParams: "" });
      current = secure;
      secure.on("data", onData);
    };

    current.on("data", onData);
    current.write("220 scripted.test ESMTP ready\r\n");
  }

  const smtpServer: Server = createTcpServer((socket) => serve(socket, false));
  const tlsServer = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, (socket) => serve(socket, true)) : null;
  tlsServer?.on("tlsClientError", (_error, socket) => socket.destroy());

  const controlServer: HttpServer = createHttpServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://control");
    const send = (status: number, body?: unknown): void => {
      response.writeHead(status, { "content-type": "application/json" }).end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (url.pathname === "/messages" && request.method === "GET") {
      const to = url.searchParams.get("to");
      const from = url.searchParams.get("from");
      return send(
        200,
        messages.filter((m) => (to === null || m.to === to) && (from === null || m.from === from)),
      );
    }
    if (url.pathname === "/messages" && request.method === "DELETE") {
      messages.length = 0;
      recordedBytes = 0;
      accepted = 0;
      return send(204);
    }
    if (url.pathname === "/count" && request.method === "GET") return send(200, { accepted });
    const sessionPath = /^\/sessions\/(\d+)$/.exec(url.pathname);
    if (sessionPath && request.method === "GET") {
      const log = sessionLogs.get(Number(sessionPath[1]));
      // Reads that held only message data carry no command.
      return log ? send(200, { id: log.id, reads: log.reads.filter((read) => read.length > 0) }) : send(404, { message: "No such session" });
    }
    send(404, { message: "Not found" });
  });

  const listen = (server: Server | HttpServer): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
  const [port, controlPort, tlsPort] = await Promise.all([listen(smtpServer), listen(controlServer), tlsServer ? listen(tlsServer) : undefined]);

  return {
    port,
    tlsPort,
    controlPort,
    async close() {
      for (const socket of sockets) socket.destroy();
      controlServer.closeAllConnections();
      const servers = [smtpServer, controlServer, ...(tlsServer ? [tlsServer] : [])];
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
