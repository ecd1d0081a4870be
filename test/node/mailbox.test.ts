// The local mailbox (src/tools/mailbox.mjs) over real SMTP and HTTP: a message a relay client
// delivers is kept on disk byte for byte, listed, shown and cleared, and `npm run mailbox` reads the
// same files. The tests share one mailbox and run in order: the last ones add and clear messages.
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeEntities, type MailboxMessage, type RunningMailbox, startMailbox } from "../../src/tools/mailbox.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

const HTML_PART = '<p>Hi <b>Bob</b>, <a href="https://track.example/c/abc?x=1&amp;y=2">read it</a></p><img src="http://127.0.0.1:8787/o/pixel">';
// CRLF throughout, as on the wire; the dotted line checks that the sink undoes dot-stuffing.
const MESSAGE = [
  "From: Ada <ada@example.com>",
  "To: bob@example.org",
  "Subject: =?utf-8?q?Caf=C3=A9?= <Bob> & co",
  "Message-ID: <mailbox-test-1@example.com>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/alternative; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "Hi Bob, read it: https://track.example/c/abc?x=1&y=2",
  ".a line that starts with a dot",
  "--b1",
  "Content-Type: text/html; charset=utf-8",
  "",
  HTML_PART,
  "--b1--",
  "",
].join("\r\n");
const SUBJECT = "Café <Bob> & co";
const ENVELOPE_FROM = "bounce+abcdefghijklmnopqrstuvwxyz234567@bounces.example.net";

interface Reply {
  code: number;
  text: string;
}

/** Just enough of an SMTP client (RFC 5321) to talk to the mailbox the way a relay client does. */
class SmtpClient {
  #socket: Socket;
  #buffer = "";
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      this.#wake?.();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  static async open(port: number): Promise<{ client: SmtpClient; greeting: Reply }> {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    const client = new SmtpClient(socket);
    return { client, greeting: await client.reply() };
  }

  /** The next whole reply: any "250-..." continuation lines, then the final "250 ..." line. */
  async reply(): Promise<Reply> {
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*(\d{3})(?: [^\r\n]*)?\r\n/.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match[0].length);
        return { code: Number(match[1]), text: match[0] };
      }
      if (this.#closed) throw new Error(`connection closed before a whole reply: ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  command(line: string): Promise<Reply> {
    this.#socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** Sends the message after DATA's 354: dot-stuffed, ended by a line with a single dot. */
  content(message: string): Promise<Reply> {
    this.#socket.write(`${message.replace(/^\./gm, "..")}.\r\n`);
    return this.reply();
  }

  async quit(): Promise<void> {
    await this.command("QUIT");
    this.#socket.end();
  }
}

async function expectCode(reply: Promise<Reply>, code: number): Promise<Reply> {
  const r = await reply;
  expect(r.code, r.text).toBe(code);
  return r;
}

/** Mirrors what the mailbox writes into srcdoc="...": the attribute value, unescaped. */
function unescapeAttribute(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

let mailbox: RunningMailbox;
let dir: string;
let base: string;
let sentAt: number;
let ehlo: Reply;
let dataReply: Reply;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "tidings-mailbox-"));
  mailbox = await startMailbox({ smtpPort: 0, httpPort: 0, dir });
  base = `http://127.0.0.1:${mailbox.httpPort}`;
  sentAt = Date.now();
  const { client, greeting } = await SmtpClient.open(mailbox.smtpPort);
  expect(greeting.code).toBe(220);
  ehlo = await expectCode(client.command("EHLO client.test"), 250);
  // A VERP envelope sender, as the Worker sends: the list must show the From header instead.
  await expectCode(client.command(`MAIL FROM:<${ENVELOPE_FROM}>`), 250);
  await expectCode(client.command("RCPT TO:<bob@example.org>"), 250);
  await expectCode(client.command("DATA"), 354);
  dataReply = await client.content(MESSAGE);
  await client.quit();
});
afterAll(async () => {
  await mailbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The id the mailbox answered the DATA with ("Message queued as <id>"). */
function sentId(): string {
  return /queued as (\S+)/.exec(dataReply.text)![1]!;
}

describe("the local mailbox", () => {
  it("speaks plain SMTP without AUTH and keeps the message on disk as sent", () => {
    expect(ehlo.text).toMatch(/^250[- ]SIZE 31457280\r$/m); // 30 MB
    expect(ehlo.text).toMatch(/^250[- ]AUTH PLAIN LOGIN\r$/m);
    expect(ehlo.text).not.toContain("STARTTLS");
    expect(dataReply.code, dataReply.text).toBe(250);

    const id = sentId();
    expect(readdirSync(dir).sort()).toEqual([`${id}.eml`, `${id}.json`]);
    expect(readFileSync(path.join(dir, `${id}.eml`), "utf8")).toBe(MESSAGE);
    const sidecar = JSON.parse(readFileSync(path.join(dir, `${id}.json`), "utf8")) as MailboxMessage;
    expect(sidecar).toMatchObject({ id, from: "Ada <ada@example.com>", envelopeFrom: ENVELOPE_FROM, to: ["bob@example.org"], subject: SUBJECT });
  });

  it("lists it as JSON on GET /api/messages", async () => {
    const response = await fetch(`${base}/api/messages`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const messages = (await response.json()) as MailboxMessage[];
    expect(messages).toEqual([
      {
        id: sentId(),
        from: "Ada <ada@example.com>",
        envelopeFrom: ENVELOPE_FROM,
        to: ["bob@example.org"],
        subject: SUBJECT,
        receivedAt: expect.any(String),
        size: Buffer.byteLength(MESSAGE),
      },
    ]);
    const receivedAt = Date.parse(messages[0]!.receivedAt);
    expect(receivedAt).toBeGreaterThanOrEqual(sentAt);
    expect(receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it("lists it on the HTML page, escaped", async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const page = await response.text();
    expect(page).toContain(`href="/messages/${sentId()}"`);
    expect(page).toContain("Café &lt;Bob&gt; &amp; co");
    // The From header (escaped) is the sender shown; the envelope sender is a detail beside it.
    expect(page).toContain("Ada &lt;ada@example.com&gt; → bob@example.org");
    expect(page).toContain(`envelope ${ENVELOPE_FROM}`);
    expect(page).not.toContain("<Bob>");
    expect(page).toContain('<meta name="viewport"');
  });

  it("shows the message: subject, the HTML part in a sandboxed srcdoc iframe, links and text", async () => {
    const response = await fetch(`${base}/messages/${sentId()}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toContain("script-src 'none'");
    const page = await response.text();
    expect(page).toContain("<h1>Café &lt;Bob&gt; &amp; co</h1>");
    expect(page).not.toContain("<Bob>");

    const iframe = /<iframe\b[^>]*>/.exec(page)?.[0] ?? "";
    expect(iframe).toContain(' sandbox="allow-popups allow-popups-to-escape-sandbox"');
    // [^"]* stops at the first raw quote, so a missed escape leaves the part cut short here.
    const srcdoc = unescapeAttribute(/ srcdoc="([^"]*)"/.exec(iframe)?.[1] ?? "");
    expect(srcdoc).toContain(HTML_PART);
    expect(srcdoc).toContain('<base target="_blank">');

    expect(page).toContain('<a href="https://track.example/c/abc?x=1&amp;y=2" target="_blank" rel="noopener">');
    expect(page).toMatch(/<pre>Hi Bob, read it: https:\/\/track\.example\/c\/abc\?x=1&amp;y=2\r?\n\.a line that starts with a dot/);
  });

  it("serves the raw message byte for byte, and 404 for anything else", async () => {
    const raw = await fetch(`${base}/messages/${sentId()}.eml`);
    expect(raw.status).toBe(200);
    expect(raw.headers.get("content-type")).toBe("message/rfc822");
    expect(Buffer.from(await raw.arrayBuffer()).equals(Buffer.from(MESSAGE))).toBe(true);

    for (const pathname of ["/messages/nope", `/messages/${sentId()}0`, "/messages/..%2F..%2Fpackage.json", "/nothing"]) {
      expect((await fetch(`${base}${pathname}`)).status, pathname).toBe(404);
    }
    expect((await fetch(`${base}/api/messages`, { method: "POST" })).status).toBe(405);
  });

  it("is listed and shown by `npm run mailbox` (mailbox-list.mjs) from MAILBOX_DIR", async () => {
    const cli = path.join(root, "src/tools/mailbox-list.mjs");
    const env = { ...process.env, MAILBOX_DIR: dir };
    const list = await run(process.execPath, [cli], { env });
    expect(list.stdout).toContain(`Ada <ada@example.com> → bob@example.org  ${SUBJECT}  ${sentId()}`);
    expect(list.stdout).not.toContain(ENVELOPE_FROM);

    const shown = await run(process.execPath, [cli, sentId()], { env });
    expect(shown.stdout).toContain(`Subject:  ${SUBJECT}`);
    expect(shown.stdout).toContain(".a line that starts with a dot");
    expect(shown.stdout).toContain("[1] https://track.example/c/abc?x=1&y=2");

    await expect(run(process.execPath, [cli, "20990101-000000000-00000000"], { env })).rejects.toMatchObject({ code: 1 });
  });

  it("accepts AUTH PLAIN and LOGIN with any credentials, and refuses a message declared over 30 MB", async () => {
    const login = await SmtpClient.open(mailbox.smtpPort);
    await expectCode(login.client.command("EHLO client.test"), 250);
    await expectCode(login.client.command("AUTH LOGIN"), 334);
    await expectCode(login.client.command(Buffer.from("someone").toString("base64")), 334);
    await expectCode(login.client.command(Buffer.from("anything").toString("base64")), 235);
    await login.client.quit();

    const { client } = await SmtpClient.open(mailbox.smtpPort);
    await expectCode(client.command("EHLO client.test"), 250);
    await expectCode(client.command(`AUTH PLAIN ${Buffer.from("\0whoever\0whatever").toString("base64")}`), 235);
    await expectCode(client.command(`MAIL FROM:<big@example.com> SIZE=${31 * 1024 * 1024}`), 552);
    await expectCode(client.command("MAIL FROM:<carol@example.com>"), 250);
    await expectCode(client.command("RCPT TO:<dan@example.org>"), 250);
    await expectCode(client.command("RCPT TO:<erin@example.org>"), 250);
    await expectCode(client.command("DATA"), 354);
    await expectCode(client.content("Subject: second\r\n\r\nhello\r\n"), 250);
    await client.quit();

    const messages = (await (await fetch(`${base}/api/messages`)).json()) as MailboxMessage[];
    // "second" has no From header: the envelope sender stands in for it.
    expect(messages.map((m) => [m.subject, m.from, m.envelopeFrom, m.to])).toEqual([
      ["second", "carol@example.com", "carol@example.com", ["dan@example.org", "erin@example.org"]],
      [SUBJECT, "Ada <ada@example.com>", ENVELOPE_FROM, ["bob@example.org"]],
    ]);
  });

  it("clears everything on DELETE /api/messages", async () => {
    const response = await fetch(`${base}/api/messages`, { method: "DELETE" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ deleted: 2 });
    expect(await (await fetch(`${base}/api/messages`)).json()).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    expect((await fetch(`${base}/messages/${sentId()}`)).status).toBe(404);
    const list = await run(process.execPath, [path.join(root, "src/tools/mailbox-list.mjs")], { env: { ...process.env, MAILBOX_DIR: dir } });
    expect(list.stdout).toMatch(/^No messages in /);
  });

  it("stops listening on close()", async () => {
    await mailbox.close();
    await expect(fetch(`${base}/api/messages`)).rejects.toThrow();
    const socket = connect(mailbox.smtpPort, "127.0.0.1");
    const [error] = (await once(socket, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
  });
});

describe("decodeEntities", () => {
  it("decodes the named entities it knows and leaves built-in property names alone", () => {
    expect(decodeEntities("a &amp; b &LT;&#65;&#x42;")).toBe("a & b <AB");
    expect(decodeEntities("&constructor; &tostring; &valueof;")).toBe("&constructor; &tostring; &valueof;");
  });
});
