// The SMTP client inside workerd: real sessions over cloudflare:sockets against the scripted relays
// from test/global-setup.ts, a fake socket for what those relays never do (HELO fallback, AUTH
// LOGIN, silence), and the pure helpers on their own.
import type { connect } from "cloudflare:sockets";
import { describe, expect, inject, it } from "vitest";
import {
  deliverOverSmtp,
  dotStuff,
  encodeDataBody,
  extractEnhancedCode,
  normaliseLineEndings,
  parseEhloExtensions,
  type SmtpRelay,
  takeReply,
} from "../../src/consumers/smtp-client";
import type { RecordedMessage } from "../support/scripted-smtp";

const FROM = "sender@tidings.test";

function relay(overrides: Partial<SmtpRelay> = {}): SmtpRelay {
  return { host: "127.0.0.1", port: inject("smtpPort"), security: "none", heloName: "tidings.test", timeoutMs: 5_000, ...overrides };
}

function authRelay(overrides: Partial<SmtpRelay> = {}): SmtpRelay {
  return relay({ port: inject("smtpAuthPort"), user: "relay-user", password: "relay-pass", ...overrides });
}

/** A recipient no other test (or test file sharing the relay) uses, with the behaviour `prefix` picks. */
function recipient(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}@example.org`;
}

async function recorded(controlPort: number, to: string): Promise<RecordedMessage[]> {
  const response = await fetch(`http://127.0.0.1:${controlPort}/messages?to=${encodeURIComponent(to)}`);
  expect(response.status).toBe(200);
  return response.json();
}

const MIME = "Subject: hello\n\nfirst line\n.leading dot\n..two dots\n.\nlast line";
const MIME_AS_RECEIVED = "Subject: hello\r\n\r\nfirst line\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n";

describe("deliverOverSmtp against the scripted relay", () => {
  it("delivers, normalising bare LF to CRLF and dot-stuffing lines that start with '.'", async () => {
    const to = recipient("ok");
    const started = performance.now();
    const outcome = await deliverOverSmtp(relay(), { from: FROM, to }, MIME);
    const callSeconds = (performance.now() - started) / 1000;
    expect(outcome).toMatchObject({ ok: true, code: 250, enhancedCode: "2.0.0", stage: "done", tls: false, connectionFailed: false });
    expect(outcome.message).toMatch(/^2\.0\.0 OK queued as/);
    // In seconds (not ms): a part of the call's own duration, whatever the machine's speed.
    expect(outcome.sessionSeconds).toBeGreaterThan(0);
    expect(outcome.sessionSeconds).toBeLessThanOrEqual(callSeconds);
    const [message, ...others] = await recorded(inject("smtpControlPort"), to);
    expect(others).toEqual([]);
    expect(message).toMatchObject({ from: FROM, to, data: MIME_AS_RECEIVED, authenticated: false, mailParams: "", helo: "tidings.test" });
  });

  it("keeps CRLF input as it is and adds no second line ending", async () => {
    const to = recipient("ok");
    const outcome = await deliverOverSmtp(relay(), { from: FROM, to }, "Subject: crlf\r\n\r\nbody\r\n");
    expect(outcome.ok).toBe(true);
    const [message] = await recorded(inject("smtpControlPort"), to);
    expect(message?.data).toBe("Subject: crlf\r\n\r\nbody\r\n");
  });

  it("declares BODY=8BITMIME for an 8-bit body and SMTPUTF8 for a non-ASCII address", async () => {
    const to = `ok-${crypto.randomUUID()}@bücher.example`;
    const outcome = await deliverOverSmtp(relay(), { from: FROM, to }, "Subject: Grüße\r\n\r\nÄpfel\r\n");
    expect(outcome.ok).toBe(true);
    const [message] = await recorded(inject("smtpControlPort"), to);
    expect(message?.mailParams).toBe(" BODY=8BITMIME SMTPUTF8");
    expect(message?.data).toBe("Subject: Grüße\r\n\r\nÄpfel\r\n");
  });

  it("sends no MAIL parameters for a 7-bit message to an ASCII address", async () => {
    const to = recipient("ok");
    await deliverOverSmtp(relay(), { from: FROM, to }, "Subject: plain\r\n\r\nplain\r\n");
    const [message] = await recorded(inject("smtpControlPort"), to);
    expect(message?.mailParams).toBe("");
  });

  it("reports a 4xx at RCPT as a temporary, non-network failure", async () => {
    const to = recipient("temp");
    const outcome = await deliverOverSmtp(relay(), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 451, enhancedCode: "4.7.1", message: "4.7.1 Try again later", stage: "rcpt", connectionFailed: false });
    expect(await recorded(inject("smtpControlPort"), to)).toEqual([]);
  });

  it("reports a 5xx at RCPT", async () => {
    const to = recipient("perm");
    const outcome = await deliverOverSmtp(relay(), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 550, enhancedCode: "5.1.1", message: "5.1.1 No such user", stage: "rcpt", connectionFailed: false });
  });

  it("reports a 5xx after the end of DATA and records nothing", async () => {
    const to = recipient("datafail");
    const outcome = await deliverOverSmtp(relay(), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 554, enhancedCode: "5.7.1", stage: "data", connectionFailed: false });
    expect(await recorded(inject("smtpControlPort"), to)).toEqual([]);
  });

  it("reports a connection dropped at RCPT as a connection failure with no code", async () => {
    const outcome = await deliverOverSmtp(relay(), { from: FROM, to: recipient("drop") }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 0, enhancedCode: "", stage: "rcpt", connectionFailed: true });
    expect(outcome.message).not.toBe("");
  });

  it("reports a refused connection at stage connect", async () => {
    // Port 1 (tcpmux) is privileged and never served on a test machine.
    const outcome = await deliverOverSmtp(relay({ port: 1 }), { from: FROM, to: recipient("ok") }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 0, stage: "connect", connectionFailed: true, tls: false });
    expect(outcome.message).not.toBe("");
  });

  it("fails flaky-2 twice with 451, then delivers once", async () => {
    const to = recipient("flaky-2");
    const first = await deliverOverSmtp(relay(), { from: FROM, to }, MIME);
    const second = await deliverOverSmtp(relay(), { from: FROM, to }, MIME);
    const third = await deliverOverSmtp(relay(), { from: FROM, to }, MIME);
    expect([first.code, second.code, third.code]).toEqual([451, 451, 250]);
    expect([first.ok, second.ok, third.ok]).toEqual([false, false, true]);
    expect(await recorded(inject("smtpControlPort"), to)).toHaveLength(1);
  });

  it("delivers several sessions at once", async () => {
    const tos = Array.from({ length: 8 }, () => recipient("ok"));
    const outcomes = await Promise.all(tos.map((to, i) => deliverOverSmtp(relay(), { from: FROM, to }, `Subject: ${i}\r\n\r\nbody ${i}\r\n`)));
    expect(outcomes.map((o) => o.ok)).toEqual(tos.map(() => true));
    for (const [i, to] of tos.entries()) expect((await recorded(inject("smtpControlPort"), to))[0]?.data).toBe(`Subject: ${i}\r\n\r\nbody ${i}\r\n`);
  });
});

describe("deliverOverSmtp against the relay that requires AUTH", () => {
  it("authenticates with AUTH PLAIN and delivers", async () => {
    const to = recipient("ok");
    const outcome = await deliverOverSmtp(authRelay(), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: true, code: 250, stage: "done" });
    const [message] = await recorded(inject("smtpAuthControlPort"), to);
    expect(message).toMatchObject({ authenticated: true, authUser: "relay-user", authMechanism: "PLAIN", data: MIME_AS_RECEIVED });
  });

  it("stops at stage auth on a wrong password", async () => {
    const to = recipient("ok");
    const outcome = await deliverOverSmtp(authRelay({ password: "wrong" }), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 535, enhancedCode: "5.7.8", stage: "auth", connectionFailed: false });
    expect(await recorded(inject("smtpAuthControlPort"), to)).toEqual([]);
  });

  it("is refused at MAIL with 530 when no credentials are configured", async () => {
    const outcome = await deliverOverSmtp(authRelay({ user: undefined, password: undefined }), { from: FROM, to: recipient("ok") }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 530, enhancedCode: "5.7.0", stage: "mail", connectionFailed: false });
  });
});

// workerd trusts the test CA only when NODE_EXTRA_CA_CERTS named it before vitest started (see
// test/global-setup.ts); without it, what can be checked is that an unverified relay gets nothing.
describe("deliverOverSmtp over TLS", () => {
  const trusted = inject("smtpTlsTrusted");
  const tlsRelay = (overrides: Partial<SmtpRelay>) => relay({ host: "localhost", security: "starttls", port: inject("smtpStartTlsPort"), ...overrides });

  it.runIf(trusted)("upgrades with STARTTLS, says EHLO again, and delivers", async () => {
    const to = recipient("ok");
    const outcome = await deliverOverSmtp(tlsRelay({}), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: true, code: 250, stage: "done", tls: true, connectionFailed: false });
    const [message] = await recorded(inject("smtpTlsControlPort"), to);
    expect(message).toMatchObject({ tls: true, helo: "tidings.test", data: MIME_AS_RECEIVED });
  });

  it.runIf(trusted)("delivers over implicit TLS", async () => {
    const to = recipient("ok");
    const outcome = await deliverOverSmtp(tlsRelay({ security: "tls", port: inject("smtpImplicitTlsPort") }), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: true, code: 250, stage: "done", tls: true });
    expect((await recorded(inject("smtpTlsControlPort"), to))[0]?.tls).toBe(true);
  });

  it.runIf(trusted)("refuses a certificate issued for another name", async () => {
    const to = recipient("ok");
    const outcome = await deliverOverSmtp(tlsRelay({ host: "127.0.0.1" }), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 0, stage: "starttls", tls: false, connectionFailed: true });
    expect(outcome.message).toMatch(/^TLS handshake failed/);
    expect(await recorded(inject("smtpTlsControlPort"), to)).toEqual([]);
  });

  it.skipIf(trusted)("refuses a certificate from an untrusted issuer over STARTTLS", async () => {
    const to = recipient("ok");
    const outcome = await deliverOverSmtp(tlsRelay({}), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 0, stage: "starttls", tls: false, connectionFailed: true });
    expect(await recorded(inject("smtpTlsControlPort"), to)).toEqual([]);
  });

  it.skipIf(trusted)("refuses a certificate from an untrusted issuer over implicit TLS", async () => {
    const to = recipient("ok");
    const outcome = await deliverOverSmtp(tlsRelay({ security: "tls", port: inject("smtpImplicitTlsPort") }), { from: FROM, to }, MIME);
    expect(outcome).toMatchObject({ ok: false, code: 0, tls: false, connectionFailed: true });
    expect(await recorded(inject("smtpTlsControlPort"), to)).toEqual([]);
  });
});

/** A socket whose peer answers each line the client sends with `answer(line)` (null: silence). */
function fakeRelay(answer: (line: string) => string | null, greeting: string | null = "220 fake.test ready") {
  const sent: string[] = [];
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let peer!: ReadableStreamDefaultController<Uint8Array>;
  let partial = "";
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      peer = controller;
      if (greeting !== null) controller.enqueue(encoder.encode(`${greeting}\r\n`));
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      partial += decoder.decode(chunk);
      for (let end = partial.indexOf("\r\n"); end !== -1; end = partial.indexOf("\r\n")) {
        const line = partial.slice(0, end);
        partial = partial.slice(end + 2);
        sent.push(line);
        const reply = answer(line);
        if (reply !== null) peer.enqueue(encoder.encode(`${reply}\r\n`));
      }
    },
  });
  const socket = {
    readable,
    writable,
    opened: Promise.resolve({}),
    closed: new Promise<void>(() => undefined),
    close: async () => {
      try {
        peer.close();
      } catch {
        // already closed
      }
    },
    startTls: () => {
      throw new Error("the fake relay has no TLS");
    },
  };
  let connects = 0;
  const connectFn = (() => (connects++, socket)) as unknown as typeof connect;
  return { connectFn, sent, connects: () => connects };
}

/** The replies of a relay that accepts everything; `overrides` replace them by whole line or by verb. */
function acceptingRelay(overrides: Record<string, string | null> = {}) {
  return (line: string): string | null => {
    const verb = line.split(" ")[0]!.toUpperCase();
    if (line in overrides) return overrides[line]!;
    if (verb in overrides) return overrides[verb]!;
    if (verb === "EHLO") return "250-fake.test\r\n250 8BITMIME";
    if (verb === "DATA") return "354 go ahead";
    if (line === ".") return "250-2.0.0 queued\r\n250 2.0.0 as fake-1";
    if (verb === "QUIT") return "221 bye";
    if (/^(HELO|MAIL|RCPT)$/.test(verb)) return "250 OK";
    return null;
  };
}

describe("deliverOverSmtp against a fake socket", () => {
  const fakeRelayConfig = (overrides: Partial<SmtpRelay> = {}) => relay({ host: "fake.test", port: 2525, ...overrides });

  it("falls back to HELO when EHLO gets a 5xx, and joins a multi-line reply with spaces", async () => {
    const fake = fakeRelay(acceptingRelay({ EHLO: "502 5.5.1 EHLO not implemented" }));
    const outcome = await deliverOverSmtp(fakeRelayConfig(), { from: FROM, to: "a@example.org" }, "x", fake.connectFn);
    expect(outcome).toMatchObject({ ok: true, code: 250, message: "2.0.0 queued 2.0.0 as fake-1", enhancedCode: "2.0.0" });
    expect(fake.sent.slice(0, 4)).toEqual(["EHLO tidings.test", "HELO tidings.test", "MAIL FROM:<sender@tidings.test>", "RCPT TO:<a@example.org>"]);
    expect(fake.sent.at(-1)).toBe("QUIT");
  });

  it("does not fall back to HELO on a 4xx to EHLO", async () => {
    const fake = fakeRelay(acceptingRelay({ EHLO: "421 4.3.2 Shutting down" }));
    const outcome = await deliverOverSmtp(fakeRelayConfig(), { from: FROM, to: "a@example.org" }, "x", fake.connectFn);
    expect(outcome).toMatchObject({ ok: false, code: 421, enhancedCode: "4.3.2", stage: "ehlo", connectionFailed: false });
    expect(fake.sent).not.toContain("HELO tidings.test");
  });

  it("uses AUTH LOGIN when PLAIN is not advertised", async () => {
    const fake = fakeRelay(
      acceptingRelay({
        EHLO: "250-fake.test\r\n250 AUTH LOGIN",
        AUTH: "334 VXNlcm5hbWU6",
        "w7wtdXNlcg==": "334 UGFzc3dvcmQ6",
        [btoa("secret")]: "235 2.7.0 OK",
      }),
    );
    const outcome = await deliverOverSmtp(fakeRelayConfig({ user: "ü-user", password: "secret" }), { from: FROM, to: "a@example.org" }, "x", fake.connectFn);
    expect(outcome.ok).toBe(true);
    // btoa of the UTF-8 bytes, so a non-Latin-1 user name cannot make btoa throw.
    expect(fake.sent.slice(1, 4)).toEqual(["AUTH LOGIN", "w7wtdXNlcg==", btoa("secret")]);
  });

  it("fails at stage auth when credentials are set but the relay offers no AUTH, and says QUIT", async () => {
    const fake = fakeRelay(acceptingRelay());
    const outcome = await deliverOverSmtp(fakeRelayConfig({ user: "u", password: "p" }), { from: FROM, to: "a@example.org" }, "x", fake.connectFn);
    expect(outcome).toMatchObject({ ok: false, code: 0, stage: "auth", connectionFailed: false });
    expect(fake.sent).toEqual(["EHLO tidings.test", "QUIT"]);
  });

  it("refuses to send in clear text when STARTTLS is required but not offered", async () => {
    const fake = fakeRelay(acceptingRelay());
    const outcome = await deliverOverSmtp(fakeRelayConfig({ security: "starttls" }), { from: FROM, to: "a@example.org" }, "x", fake.connectFn);
    expect(outcome).toMatchObject({ ok: false, stage: "starttls", tls: false, connectionFailed: false });
    expect(fake.sent).not.toContain("MAIL FROM:<sender@tidings.test>");
  });

  it("turns an unanswered greeting into a timeout at stage greeting", async () => {
    const fake = fakeRelay(() => null, null);
    const outcome = await deliverOverSmtp(fakeRelayConfig({ timeoutMs: 50 }), { from: FROM, to: "a@example.org" }, "x", fake.connectFn);
    expect(outcome).toMatchObject({ ok: false, code: 0, stage: "greeting", connectionFailed: true });
    expect(outcome.message).toMatch(/Timed out after 50 ms/);
  });

  it("rejects a greeting that is not 2xx", async () => {
    const fake = fakeRelay(acceptingRelay(), "554 5.3.2 No service here");
    const outcome = await deliverOverSmtp(fakeRelayConfig(), { from: FROM, to: "a@example.org" }, "x", fake.connectFn);
    expect(outcome).toMatchObject({ ok: false, code: 554, enhancedCode: "5.3.2", stage: "greeting", connectionFailed: false });
  });

  it("never connects for an envelope address carrying CR or LF", async () => {
    const fake = fakeRelay(acceptingRelay());
    const outcome = await deliverOverSmtp(fakeRelayConfig(), { from: FROM, to: "a@example.org>\r\nRCPT TO:<b@example.org" }, "x", fake.connectFn);
    expect(outcome).toMatchObject({ ok: false, stage: "mail", connectionFailed: false });
    expect(fake.connects()).toBe(0);
  });

  it("reports a malformed reply as a connection failure instead of throwing", async () => {
    const fake = fakeRelay(acceptingRelay({ EHLO: "hello there" }));
    const outcome = await deliverOverSmtp(fakeRelayConfig(), { from: FROM, to: "a@example.org" }, "x", fake.connectFn);
    expect(outcome).toMatchObject({ ok: false, code: 0, stage: "ehlo", connectionFailed: true });
    expect(outcome.message).toMatch(/Malformed SMTP reply/);
  });
});

describe("SMTP helpers", () => {
  it("takeReply reads single-line, multi-line and bare-code replies and keeps the rest", () => {
    expect(takeReply("250 OK\r\n")).toEqual({ reply: { code: 250, lines: ["OK"] }, rest: "" });
    expect(takeReply("250-a.test\r\n250-8BITMIME\r\n250 SIZE 10\r\n354 next")).toEqual({
      reply: { code: 250, lines: ["a.test", "8BITMIME", "SIZE 10"] },
      rest: "354 next",
    });
    expect(takeReply("250\r\n")).toEqual({ reply: { code: 250, lines: [""] }, rest: "" });
    expect(takeReply("220 bare LF\n")?.reply).toEqual({ code: 220, lines: ["bare LF"] });
  });

  it("takeReply waits for the last line of a reply", () => {
    expect(takeReply("")).toBeNull();
    expect(takeReply("250 OK")).toBeNull();
    expect(takeReply("250-first\r\n250-second\r\n")).toBeNull();
  });

  it("takeReply throws on a line that is not a reply", () => {
    expect(() => takeReply("HTTP/1.1 400 Bad Request\r\n")).toThrow(/Malformed/);
  });

  it("extractEnhancedCode finds an RFC 3463 code only at the start of the text", () => {
    expect(extractEnhancedCode("5.1.1 No such user")).toBe("5.1.1");
    expect(extractEnhancedCode("4.7.1")).toBe("4.7.1");
    expect(extractEnhancedCode("2.0.0 OK queued")).toBe("2.0.0");
    expect(extractEnhancedCode("5.7.26 Unauthenticated email")).toBe("5.7.26");
    expect(extractEnhancedCode("No such user 5.1.1")).toBe("");
    expect(extractEnhancedCode("3.1.1 not a class")).toBe("");
    expect(extractEnhancedCode("5.1.1x")).toBe("");
    expect(extractEnhancedCode("")).toBe("");
  });

  it("parseEhloExtensions upper-cases keywords and keeps parameters", () => {
    const extensions = parseEhloExtensions({ code: 250, lines: ["relay.test Hello", "8bitmime", "AUTH PLAIN LOGIN", "SIZE 1000"] });
    expect([...extensions]).toEqual([
      ["8BITMIME", ""],
      ["AUTH", "PLAIN LOGIN"],
      ["SIZE", "1000"],
    ]);
  });

  it("normaliseLineEndings turns LF, CR and CRLF into CRLF", () => {
    expect(normaliseLineEndings("a\nb\rc\r\nd")).toBe("a\r\nb\r\nc\r\nd");
    expect(normaliseLineEndings("\n\n")).toBe("\r\n\r\n");
  });

  it("dotStuff doubles a dot only at the start of a line", () => {
    expect(dotStuff(".a\r\nb.c\r\n.\r\n..d")).toBe("..a\r\nb.c\r\n..\r\n...d");
  });

  it("encodeDataBody ends every body with exactly one CRLF before the terminator", () => {
    expect(encodeDataBody("a\nb")).toBe("a\r\nb\r\n.\r\n");
    expect(encodeDataBody("a\r\n")).toBe("a\r\n.\r\n");
    expect(encodeDataBody(".")).toBe("..\r\n.\r\n");
    expect(encodeDataBody("")).toBe(".\r\n");
  });
});
