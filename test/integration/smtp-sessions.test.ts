// SMTP session reuse (SmtpPool in src/consumers/smtp-client.ts) inside workerd, against the scripted
// relays of test/global-setup.ts: which connection each message came over and what each connection
// received (GET /sessions/N), with and without PIPELINING, and a fresh session after every error.
import { describe, expect, inject, it } from "vitest";
import { MAX_MESSAGES_PER_SESSION, type SmtpOutcome, SmtpPool, type SmtpRelay } from "../../src/consumers/smtp-client";
import type { RecordedMessage, RecordedSession } from "../support/scripted-smtp";

const FROM = "bounce+x@tidings.test";
const MIME = "Subject: reuse\r\n\r\nbody\r\n.dot\r\n";

function plainRelay(): SmtpRelay {
  return { host: "127.0.0.1", port: inject("smtpPort"), security: "none", heloName: "tidings.test", timeoutMs: 5_000 };
}

function pipeliningRelay(): SmtpRelay {
  return { ...plainRelay(), port: inject("smtpPipeliningPort"), user: "relay-user", password: "relay-pass" };
}

function recipient(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}@example.org`;
}

async function recorded(controlPort: number, to: string): Promise<RecordedMessage[]> {
  return (await fetch(`http://127.0.0.1:${controlPort}/messages?to=${encodeURIComponent(to)}`)).json();
}

/** The connection each recipient's message came over (a recipient that was not accepted: undefined). */
async function sessionsOf(controlPort: number, tos: string[]): Promise<Array<number | undefined>> {
  return Promise.all(tos.map(async (to) => (await recorded(controlPort, to))[0]?.session));
}

async function commandsOf(controlPort: number, session: number): Promise<RecordedSession["reads"]> {
  const response = await fetch(`http://127.0.0.1:${controlPort}/sessions/${session}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as RecordedSession).reads;
}

/** Delivers to each recipient in turn over one pool of one session, then closes the pool. */
async function deliverInTurn(relay: SmtpRelay, tos: string[]): Promise<SmtpOutcome[]> {
  const pool = new SmtpPool(1);
  const outcomes: SmtpOutcome[] = [];
  for (const to of tos) outcomes.push(await pool.deliver(relay, { from: FROM, to }, MIME));
  await pool.close();
  return outcomes;
}

describe("SmtpPool without PIPELINING", () => {
  it("carries many messages over one connection, RSET between them, one command per write, QUIT at close", async () => {
    const tos = Array.from({ length: 12 }, () => recipient("ok"));
    const outcomes = await deliverInTurn(plainRelay(), tos);
    expect(outcomes.map((o) => o.ok)).toEqual(tos.map(() => true));
    const sessions = await sessionsOf(inject("smtpControlPort"), tos);
    expect(new Set(sessions).size).toBe(1);
    const reads = await commandsOf(inject("smtpControlPort"), sessions[0]!);
    // Without PIPELINING every command waits for the previous reply, so each arrives on its own.
    expect(reads.every((read) => read.length === 1)).toBe(true);
    const transaction = ["MAIL", "RCPT", "DATA"];
    expect(reads.flat()).toEqual(["EHLO", ...transaction, ...tos.slice(1).flatMap(() => ["RSET", ...transaction]), "QUIT"]);
    for (const to of tos) expect((await recorded(inject("smtpControlPort"), to))[0]?.data).toBe("Subject: reuse\r\n\r\nbody\r\n.dot\r\n");
  });

  it(`closes a session after ${MAX_MESSAGES_PER_SESSION} messages and goes on with a fresh one`, async () => {
    const tos = Array.from({ length: MAX_MESSAGES_PER_SESSION + 1 }, () => recipient("ok"));
    const outcomes = await deliverInTurn(plainRelay(), tos);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const sessions = await sessionsOf(inject("smtpControlPort"), tos);
    expect(new Set(sessions.slice(0, -1)).size).toBe(1);
    expect(sessions.at(-1)).not.toBe(sessions[0]);
    expect((await commandsOf(inject("smtpControlPort"), sessions[0]!)).flat().at(-1)).toBe("QUIT");
  });

  it("runs up to its size of sessions at once, each carrying several messages", async () => {
    const tos = Array.from({ length: 12 }, () => recipient("ok"));
    const pool = new SmtpPool(3);
    const outcomes = await Promise.all(tos.map((to) => pool.deliver(plainRelay(), { from: FROM, to }, MIME)));
    await pool.close();
    expect(outcomes.map((o) => o.ok)).toEqual(tos.map(() => true));
    const sessions = new Set(await sessionsOf(inject("smtpControlPort"), tos));
    expect(sessions.size).toBeGreaterThanOrEqual(1);
    expect(sessions.size).toBeLessThanOrEqual(3);
  });

  it("after a 4xx mid-session, reports it as today and starts the next message on a fresh session", async () => {
    const tos = [recipient("ok"), recipient("temp"), recipient("ok")];
    const outcomes = await deliverInTurn(plainRelay(), tos);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1]).toMatchObject({ code: 451, enhancedCode: "4.7.1", message: "4.7.1 Try again later", stage: "rcpt", connectionFailed: false });
    const [first, , third] = await sessionsOf(inject("smtpControlPort"), tos);
    expect(third).not.toBe(first);
    // The failed session said QUIT after the 451 and carried nothing more.
    expect((await commandsOf(inject("smtpControlPort"), first!)).flat().slice(-4)).toEqual(["RSET", "MAIL", "RCPT", "QUIT"]);
  });

  it("after a 5xx at the end of DATA, reports it as today and starts the next message on a fresh session", async () => {
    const tos = [recipient("ok"), recipient("datafail"), recipient("ok")];
    const outcomes = await deliverInTurn(plainRelay(), tos);
    expect(outcomes[1]).toMatchObject({ ok: false, code: 554, enhancedCode: "5.7.1", stage: "data", connectionFailed: false });
    expect(outcomes[2]?.ok).toBe(true);
    const [first, , third] = await sessionsOf(inject("smtpControlPort"), tos);
    expect(third).not.toBe(first);
  });

  it("after the connection drops mid-batch, reports a connection failure and delivers the rest on a new connection", async () => {
    const tos = [recipient("ok"), recipient("drop"), recipient("ok"), recipient("ok")];
    const outcomes = await deliverInTurn(plainRelay(), tos);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, true]);
    expect(outcomes[1]).toMatchObject({ code: 0, enhancedCode: "", stage: "rcpt", connectionFailed: true });
    const [first, , third, fourth] = await sessionsOf(inject("smtpControlPort"), tos);
    expect(third).not.toBe(first);
    expect(fourth).toBe(third);
  });

  it("moves a message to a fresh session when the relay ends the old one at RSET (421), instead of failing it", async () => {
    const tos = [recipient("rset421"), recipient("ok")];
    const outcomes = await deliverInTurn(plainRelay(), tos);
    expect(outcomes.map((o) => [o.ok, o.code])).toEqual([
      [true, 250],
      [true, 250],
    ]);
    const [first, second] = await sessionsOf(inject("smtpControlPort"), tos);
    expect(second).not.toBe(first);
    expect((await commandsOf(inject("smtpControlPort"), first!)).flat().slice(-1)).toEqual(["RSET"]);
  });
});

describe("SmtpPool with PIPELINING", () => {
  it("logs in once and sends RSET, MAIL FROM, RCPT TO and DATA in one write", async () => {
    const tos = Array.from({ length: 5 }, () => recipient("ok"));
    const outcomes = await deliverInTurn(pipeliningRelay(), tos);
    expect(outcomes.map((o) => [o.ok, o.stage])).toEqual(tos.map(() => [true, "done"]));
    const sessions = await sessionsOf(inject("smtpPipeliningControlPort"), tos);
    expect(new Set(sessions).size).toBe(1);
    expect((await recorded(inject("smtpPipeliningControlPort"), tos[0]!))[0]).toMatchObject({ authenticated: true, authUser: "relay-user" });
    const reads = await commandsOf(inject("smtpPipeliningControlPort"), sessions[0]!);
    expect(reads).toEqual([["EHLO"], ["AUTH"], ["MAIL", "RCPT", "DATA"], ...tos.slice(1).map(() => ["RSET", "MAIL", "RCPT", "DATA"]), ["QUIT"]]);
  });

  it("reads every reply of a failed pipelined group, says QUIT, and starts afresh", async () => {
    const tos = [recipient("ok"), recipient("perm"), recipient("ok")];
    const outcomes = await deliverInTurn(pipeliningRelay(), tos);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    // The first reply that went wrong is the outcome (the relay then answers DATA with 503).
    expect(outcomes[1]).toMatchObject({ code: 550, enhancedCode: "5.1.1", message: "5.1.1 No such user", stage: "rcpt", connectionFailed: false });
    const [first, , third] = await sessionsOf(inject("smtpPipeliningControlPort"), tos);
    expect(third).not.toBe(first);
    expect((await commandsOf(inject("smtpPipeliningControlPort"), first!)).slice(-2)).toEqual([["RSET", "MAIL", "RCPT", "DATA"], ["QUIT"]]);
  });

  it("after a drop in a pipelined group, reports a connection failure and delivers the rest", async () => {
    const tos = [recipient("ok"), recipient("drop"), recipient("ok")];
    const outcomes = await deliverInTurn(pipeliningRelay(), tos);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1]).toMatchObject({ code: 0, stage: "rcpt", connectionFailed: true });
  });
});

// As in smtp-client.test.ts: workerd completes TLS with the scripted relay only when it trusts the test CA.
describe("SmtpPool over STARTTLS", () => {
  it.runIf(inject("smtpTlsTrusted"))("upgrades once and carries every message over the same TLS session", async () => {
    const tos = Array.from({ length: 4 }, () => recipient("ok"));
    const outcomes = await deliverInTurn({ ...plainRelay(), host: "localhost", security: "starttls", port: inject("smtpStartTlsPort") }, tos);
    expect(outcomes.map((o) => [o.ok, o.tls])).toEqual(tos.map(() => [true, true]));
    const messages = await Promise.all(tos.map(async (to) => (await recorded(inject("smtpTlsControlPort"), to))[0]!));
    expect(messages.every((m) => m.tls)).toBe(true);
    expect(new Set(messages.map((m) => m.session)).size).toBe(1);
    const reads = await commandsOf(inject("smtpTlsControlPort"), messages[0]!.session);
    expect(reads.flat().filter((verb) => verb === "STARTTLS" || verb === "EHLO")).toEqual(["EHLO", "STARTTLS", "EHLO"]);
  });
});
