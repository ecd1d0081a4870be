// Issue 14, "Delivery throughput": the same N production-shaped messages (each recipient's tracked
// copy of a newsletter, built by the consumer's own compose code) handed to the same sink (the
// local mailbox, `npm start`'s relay: smtp-server, which offers PIPELINING) three ways, in rounds
// that alternate so the shared machine's noise falls on all three:
//  - ours: SmtpPool of SMTP_SESSIONS_AT_ONCE sessions, as the delivery consumer now uses it;
//  - before: one session per message (connect, EHLO, MAIL, RCPT, DATA, QUIT), 5 at a time, as
//    the consumer delivered until this change;
//  - nodemailer: a pooled transport (pool: true) of the same size, run in Node by
//    bench/global-setup.ts, timed there from the first sendMail to the last reply.
// The target is ours ≤ 2x nodemailer's time.
import { beforeAll, expect, inject, it } from "vitest";
import { composeForRecipient, recipientFacts } from "../src/api/compose-message";
import { parseMessageEntries } from "../src/api/message-form";
import { limiter } from "../src/consumers/limiter";
import { deliverOverSmtp, SmtpPool, type SmtpRelay } from "../src/consumers/smtp-client";
import { getDomain } from "../src/db/domains";
import { resolveTracking } from "../src/domain/tracking-settings";
import { verpAddress } from "../src/domain/verp";
import { AUTH, benchEnv, call, median, report } from "./harness";

const DOMAIN = "smtp-bench.example.com";
const MESSAGES = 500;
const ROUNDS = 3;
/** As src/consumers/delivery.ts. */
const SESSIONS = 5;

type Message = { from: string; to: string; mime: string };
let messages: Message[] = [];

beforeAll(async () => {
  const created = await call("http://127.0.0.1/v4/domains", { method: "POST", headers: AUTH, body: new URLSearchParams({ name: DOMAIN }) });
  expect(created.status).toBe(200);
  for (const t of ["open", "click"]) {
    await call(`http://127.0.0.1/v3/domains/${DOMAIN}/tracking/${t}`, { method: "PUT", headers: AUTH, body: new URLSearchParams({ active: "yes" }) });
  }
  const recipients = Array.from({ length: MESSAGES }, (_, i) => `reader${i}@example.org`);
  const request = await parseMessageEntries([
    ["from", `News <news@${DOMAIN}>`],
    ["to", recipients.join(",")],
    ["subject", "Hello %recipient.first%"],
    [
      "html",
      `<html><body><p>Hi %recipient.first%,</p>${Array.from({ length: 5 }, (_, i) => `<p><a href="https://example.org/article/${i}?ref=news">Article ${i}</a> ${"Lorem ipsum dolor sit amet. ".repeat(8)}</p>`).join("")}</body></html>`,
    ],
    ["text", "Hi %recipient.first%, read https://example.org/article/0?ref=news"],
    ["o:tag", "newsletter"],
    ["recipient-variables", JSON.stringify(Object.fromEntries(recipients.map((r, i) => [r, { first: `Reader ${i}` }])))],
  ]);
  const record = (await getDomain(benchEnv.DB, DOMAIN))!;
  const tracking = resolveTracking(record, request.tracking);
  const messageId = `smtp-bench@${DOMAIN}`;
  messages = await Promise.all(
    request.to.map(async (recipient) => {
      const { mime } = await composeForRecipient(benchEnv, record, request, recipientFacts(request, recipient, messageId), {
        messageId,
        issuedAt: Math.floor(Date.now() / 1000),
        tracking,
        date: new Date().toUTCString(),
      });
      return { from: await verpAddress({ domain: DOMAIN, messageId, recipient: recipient.address }, benchEnv.TRACKING_SECRET), to: recipient.address, mime };
    }),
  );
});

const relay = (): SmtpRelay => ({ host: "127.0.0.1", port: inject("mailboxSmtpPort"), security: "none", heloName: DOMAIN });

async function ours(): Promise<number> {
  const began = performance.now();
  const pool = new SmtpPool(SESSIONS);
  const outcomes = await Promise.all(messages.map((m) => pool.deliver(relay(), { from: m.from, to: m.to }, m.mime)));
  await pool.close();
  expect(outcomes.filter((o) => o.ok)).toHaveLength(MESSAGES);
  return performance.now() - began;
}

async function sessionPerMessage(): Promise<number> {
  const began = performance.now();
  const limit = limiter(SESSIONS);
  const outcomes = await Promise.all(messages.map((m) => limit(() => deliverOverSmtp(relay(), { from: m.from, to: m.to }, m.mime))));
  expect(outcomes.filter((o) => o.ok)).toHaveLength(MESSAGES);
  return performance.now() - began;
}

async function nodemailer(): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${inject("nodemailerRunnerPort")}/`, {
    method: "POST",
    body: JSON.stringify({ connections: SESSIONS, messages }),
  });
  expect(response.status).toBe(200);
  const { ms, accepted } = (await response.json()) as { ms: number; accepted: number };
  expect(accepted).toBe(MESSAGES);
  return ms;
}

it(`SMTP: ${MESSAGES} messages to the local mailbox, ours vs one session per message vs nodemailer's pool`, async () => {
  const kb = messages.reduce((sum, m) => sum + m.mime.length, 0) / messages.length / 1024;
  const times = { ours: [] as number[], before: [] as number[], nodemailer: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    times.nodemailer.push(await nodemailer());
    times.ours.push(await ours());
    times.before.push(await sessionPerMessage());
  }
  const rate = (ms: number) => ((MESSAGES / ms) * 1000).toFixed(0);
  const [o, b, n] = [median(times.ours), median(times.before), median(times.nodemailer)];
  report(
    `SMTP, ${MESSAGES} messages of ${kb.toFixed(1)} KB, ${SESSIONS} sessions: nodemailer pool (deliveries/s)`,
    `${rate(n)}  (${n.toFixed(0)} ms, median of ${ROUNDS})`,
  );
  report("  ours, sessions reused (deliveries/s)", `${rate(o)}  (${o.toFixed(0)} ms)`);
  report("  before, one session per message (deliveries/s)", `${rate(b)}  (${b.toFixed(0)} ms)`);
  report(
    "  ours / nodemailer (time; target <= 2x)",
    `${(o / n).toFixed(2)}x  (best rounds: ${(Math.min(...times.ours) / Math.min(...times.nodemailer)).toFixed(2)}x)`,
  );
  report("  before / nodemailer (time)", `${(b / n).toFixed(2)}x`);
});
