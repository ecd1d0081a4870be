// The delivery queue consumer through the Worker's queue handler, against the scripted SMTP relay
// (test/support/scripted-smtp.ts): every outcome, the retry schedule, the 8-hour expiry, large
// messages in R2, scheduled messages, and bounces reaching the domain's suppression list.
import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { outgoingPackKey, putOutgoingPack } from "../../src/db/outgoing-packs";
import { randomId } from "../../src/domain/base64url";
import type { DeliveryJob, DeliveryJobV1, DeliveryPackJob } from "../../src/domain/delivery-job";
import { valueOrThrow } from "../../src/domain/refusal";
import type { Env } from "../../src/env";
import { everyPartition, runQueueBatch, scriptedRelay, uniqueDomain, unpackEventMessages } from "../helpers";

const testEnv = env as unknown as Env;
const HOUR = 3600_000;

function job(domain: string, recipient: string, overrides: Partial<DeliveryJobV1> = {}): DeliveryJobV1 {
  const messageId = `${randomId()}@${domain}`;
  return {
    type: "delivery",
    v: 1,
    domain,
    messageId,
    recipient,
    from: `bounce+x@${domain}`,
    mime: `From: me@${domain}\r\nTo: ${recipient}\r\nSubject: test ${messageId}\r\nMessage-ID: <${messageId}>\r\n\r\nHello\r\n.starts with a dot\r\n`,
    acceptedAt: Date.now(),
    notBefore: 0,
    attempt: 1,
    facts: { headers: { "message-id": messageId, to: recipient, subject: "test" }, tags: ["t"], userVariables: { k: "v" }, size: 120 },
    ...overrides,
  };
}

async function runDeliveries(jobs: unknown[], overrides: Partial<Env> = {}) {
  const events: any[] = [];
  const eventMessages: unknown[] = [];
  const requeued: Array<{ body: any; delaySeconds?: number }> = [];
  const parked: unknown[] = [];
  const recordEvents = (bodies: unknown[]) => {
    eventMessages.push(...bodies);
    events.push(...unpackEventMessages(bodies).map((m) => m.event));
  };
  const deliveryEnv: Env = {
    ...testEnv,
    ...scriptedRelay(),
    ...everyPartition("events", {
      send: async (b: unknown) => recordEvents([b]),
      sendBatch: async (bs: Array<{ body: unknown }>) => recordEvents(bs.map((m) => m.body)),
    }),
    DELIVERY: {
      send: async (body: DeliveryJob, o?: { delaySeconds?: number }) => void requeued.push({ body, delaySeconds: o?.delaySeconds }),
    } as unknown as Env["DELIVERY"],
    EVENTS_DLQ: { send: async (b: unknown) => void parked.push(b) } as unknown as Env["EVENTS_DLQ"],
    ...overrides,
  };
  const { result } = await runQueueBatch("tidings-delivery", jobs, deliveryEnv);
  return { events, eventMessages, requeued, parked, result };
}

async function relayed(recipient: string): Promise<Array<{ from: string; to: string[]; data: string }>> {
  const response = await fetch(`http://127.0.0.1:${inject("smtpControlPort")}/messages?to=${encodeURIComponent(recipient)}`);
  return response.json();
}

describe("delivery consumer", () => {
  it("delivers through the relay and records a delivered event with delivery-status", async () => {
    const domain = uniqueDomain("dl");
    const recipient = `ok-${randomId()}@example.org`;
    const { events, requeued, result } = await runDeliveries([job(domain, recipient)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(requeued).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event: "delivered",
      "log-level": "info",
      recipient,
      tags: ["t"],
      "user-variables": { k: "v" },
      envelope: { transport: "smtp" },
      "delivery-status": { code: 250, "attempt-no": 1, "mx-host": "127.0.0.1", tls: false },
    });
    expect(events[0]["delivery-status"]["session-seconds"]).toBeGreaterThan(0);
    const received = await relayed(recipient);
    expect(received).toHaveLength(1);
    expect(received[0]!.from).toBe(`bounce+x@${domain}`);
    expect(received[0]!.data).toContain("\r\n.starts with a dot\r\n");
  });

  it("fails temporarily on 4xx and dropped connections, and retries on Mailgun's schedule", async () => {
    const domain = uniqueDomain("temp");
    const jobs = [job(domain, `temp-${randomId()}@example.org`), job(domain, `drop-${randomId()}@example.org`, { attempt: 3, acceptedAt: Date.now() - HOUR })];
    const { events, requeued } = await runDeliveries(jobs);
    const byRecipient = new Map(events.map((e) => [e.recipient, e]));
    const temp = byRecipient.get(jobs[0]!.recipient)!;
    expect(temp).toMatchObject({
      event: "failed",
      severity: "temporary",
      reason: "generic",
      "log-level": "warn",
      "delivery-status": { code: 451, "enhanced-code": "4.7.1", "retry-seconds": 600, "attempt-no": 1 },
    });
    const dropped = byRecipient.get(jobs[1]!.recipient)!;
    expect(dropped).toMatchObject({ severity: "temporary", "delivery-status": { code: 0, "retry-seconds": 1800, "attempt-no": 3 } });
    expect(requeued.map((r) => [r.body.recipient, r.body.attempt, r.delaySeconds]).sort()).toEqual(
      [
        [jobs[0]!.recipient, 2, 600],
        [jobs[1]!.recipient, 4, 1800],
      ].sort(),
    );
  });

  it("delivers on the retry after a 4xx (the relay fails once, then accepts)", async () => {
    const recipient = `flaky-1-${randomId()}@example.org`;
    const first = await runDeliveries([job(uniqueDomain("flaky"), recipient)]);
    expect(first.events.map((e) => e.severity)).toEqual(["temporary"]);
    expect(first.requeued).toHaveLength(1);
    // The queue hands the requeued job back after its delay; here, at once.
    const second = await runDeliveries([first.requeued[0]!.body]);
    expect(second.events[0]).toMatchObject({ event: "delivered", "delivery-status": { "attempt-no": 2 } });
    expect(second.events[0]!.id).not.toBe(first.events[0]!.id);
    expect(await relayed(recipient)).toHaveLength(1);
  });

  it("gives up with reason old when the 8-hour window is over", async () => {
    const domain = uniqueDomain("old");
    const last = job(domain, `temp-${randomId()}@example.org`, { attempt: 7, acceptedAt: Date.now() - 7.9 * HOUR });
    const late = job(domain, `temp-${randomId()}@example.org`, { attempt: 3, acceptedAt: Date.now() - 7.9 * HOUR });
    const { events, requeued } = await runDeliveries([last, late]);
    expect(requeued).toEqual([]);
    expect(events.map((e) => [e.severity, e.reason, e["log-level"], e["delivery-status"].description])).toEqual([
      ["permanent", "old", "error", "Too old"],
      ["permanent", "old", "error", "Too old"],
    ]);
  });

  it("bounces on 5xx, and the bounce reaches the domain's suppression list", async () => {
    const domain = uniqueDomain("perm");
    const recipient = `perm-${randomId()}@example.org`;
    const { events, requeued } = await runDeliveries([job(domain, recipient)]);
    expect(requeued).toEqual([]);
    expect(events[0]).toMatchObject({ event: "failed", severity: "permanent", reason: "bounce", "delivery-status": { code: 550, "enhanced-code": "5.1.1" } });
    // Through the real events consumer: the recipient joins the bounce list (code 605 next time).
    expect((await runQueueBatch("tidings-events", [{ type: "event", v: 1, domain, event: events[0] }], testEnv)).result.explicitAcks).toHaveLength(1);
    const checks = valueOrThrow(await testEnv.DOMAIN_STATE.get(testEnv.DOMAIN_STATE.idFromName(domain)).checkRecipients([recipient], []));
    expect(checks[0]!.suppressed?.code).toBe(605);
  });

  it("treats a 5xx after DATA as a bounce too", async () => {
    const { events } = await runDeliveries([job(uniqueDomain("data"), `datafail-${randomId()}@example.org`)]);
    expect(events[0]).toMatchObject({ severity: "permanent", reason: "bounce", "delivery-status": { code: 554 } });
  });

  it("waits and retries while no relay is configured", async () => {
    const { events, requeued } = await runDeliveries([job(uniqueDomain("norelay"), "ok@example.org")], { SMTP_RELAY_HOST: "" });
    expect(events[0]).toMatchObject({ severity: "temporary", "delivery-status": { message: expect.stringContaining("SMTP_RELAY_HOST") } });
    expect(requeued[0]!.delaySeconds).toBe(600);
  });

  it("authenticates to a relay that requires it", async () => {
    const recipient = `ok-${randomId()}@example.org`;
    const { events } = await runDeliveries([job(uniqueDomain("auth"), recipient)], {
      SMTP_RELAY_PORT: String(inject("smtpAuthPort")),
      SMTP_RELAY_USER: "relay-user",
      SMTP_RELAY_PASSWORD: "relay-pass",
    });
    expect(events[0]!.event).toBe("delivered");
    const response = await fetch(`http://127.0.0.1:${inject("smtpAuthControlPort")}/messages?to=${encodeURIComponent(recipient)}`);
    expect(((await response.json()) as any[])[0].authUser).toBe("relay-user");
  });

  it("reads large messages from R2 and deletes them once delivered", async () => {
    const domain = uniqueDomain("r2");
    const recipient = `ok-${randomId()}@example.org`;
    const key = `${domain}/big/${recipient}`;
    const body = `Subject: big\r\n\r\n${"y".repeat(200_000)}\r\n`;
    await testEnv.MESSAGES.put(key, body);
    const { events } = await runDeliveries([job(domain, recipient, { mime: undefined, mimeKey: key })]);
    expect(events[0]!.event).toBe("delivered");
    expect((await relayed(recipient))[0]!.data.length).toBeGreaterThan(200_000);
    expect(await testEnv.MESSAGES.get(key)).toBeNull();
  });

  it("holds scheduled messages until their time without an attempt", async () => {
    const recipient = `ok-${randomId()}@example.org`;
    const notBefore = Date.now() + 2 * 24 * HOUR;
    const { events, requeued } = await runDeliveries([job(uniqueDomain("sched"), recipient, { notBefore })]);
    expect(events).toEqual([]);
    expect(requeued[0]!.delaySeconds).toBe(43_200);
    expect(requeued[0]!.body.attempt).toBe(1);
    expect(await relayed(recipient)).toEqual([]);
  });

  it("writes the same event id when a job is delivered twice, and parks malformed jobs", async () => {
    const one = job(uniqueDomain("idem"), `ok-${randomId()}@example.org`);
    const first = await runDeliveries([one]);
    const second = await runDeliveries([one]);
    expect(second.events[0]!.id).toBe(first.events[0]!.id);
    const bad = await runDeliveries([{ type: "delivery", v: 1, domain: "x" }]);
    expect(bad.result.explicitAcks).toHaveLength(1);
    expect(bad.parked).toHaveLength(1);
    expect(bad.events).toEqual([]);
  });
});

/** A pack job as the Messages API makes it, its copies inline. */
function packJob(domain: string, recipients: string[], overrides: Partial<DeliveryPackJob> = {}): DeliveryPackJob {
  const messageId = `${randomId()}@${domain}`;
  return {
    type: "delivery",
    v: 2,
    domain,
    messageId,
    acceptedAt: Date.now(),
    notBefore: 0,
    attempt: 1,
    recipients,
    pack: {
      facts: { headers: { "message-id": messageId, to: recipients.join(", "), subject: "pack" }, tags: ["t"], userVariables: { k: "v" } },
      copies: recipients.map((recipient) => ({
        recipient,
        from: `bounce+x@${domain}`,
        size: 100,
        mime: `From: me@${domain}\r\nTo: ${recipient}\r\nSubject: pack\r\n\r\nHello ${recipient}\r\n`,
      })),
    },
    ...overrides,
  };
}

describe("delivery consumer, packs of recipients", () => {
  it("records each recipient's outcome, packs the events, and retries only the recipients that failed", async () => {
    const domain = uniqueDomain("pk");
    const [ok, temp, perm, own] = ["ok", "temp", "perm", "ok"].map((prefix) => `${prefix}-${randomId()}@example.org`) as [string, string, string, string];
    const job = packJob(domain, [ok, temp, perm, own]);
    Object.assign(job.pack!.copies[3]!, { headers: { to: `Own <${own}>`, subject: "mine" }, userVariables: { k: "own" } });
    const { events, eventMessages, requeued, result } = await runDeliveries([job]);
    expect(result.explicitAcks).toHaveLength(1);
    const byRecipient = new Map(events.map((e) => [e.recipient, e]));
    expect(byRecipient.get(ok)).toMatchObject({
      event: "delivered",
      tags: ["t"],
      "user-variables": { k: "v" },
      message: { headers: { to: job.pack!.facts.headers.to, subject: "pack" }, size: 100 },
    });
    expect(byRecipient.get(temp)).toMatchObject({
      event: "failed",
      severity: "temporary",
      "delivery-status": { code: 451, "retry-seconds": 600, "attempt-no": 1 },
    });
    expect(byRecipient.get(perm)).toMatchObject({ event: "failed", severity: "permanent", reason: "bounce" });
    expect(byRecipient.get(own)).toMatchObject({
      event: "delivered",
      "user-variables": { k: "own" },
      message: { headers: { to: `Own <${own}>`, subject: "mine", "message-id": job.messageId } },
    });
    // One pack of delivered events, one of failed ones.
    expect(eventMessages).toHaveLength(2);
    expect(requeued).toHaveLength(1);
    expect(requeued[0]!.delaySeconds).toBe(600);
    expect(requeued[0]!.body).toMatchObject({ v: 2, attempt: 2, recipients: [temp] });
    expect(requeued[0]!.body.pack.copies.map((c: { recipient: string }) => c.recipient)).toEqual([temp]);
    expect(await relayed(ok)).toHaveLength(1);
    expect(await relayed(own)).toHaveLength(1);
    expect(await relayed(temp)).toEqual([]);
    // Delivered again, the same attempt writes the same event ids.
    const again = await runDeliveries([job]);
    expect(again.events.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
  });

  it("delivers a batch over a few reused SMTP sessions, not one per recipient, with every outcome its own", async () => {
    const domain = uniqueDomain("pks");
    const oks = Array.from({ length: 30 }, () => `ok-${randomId()}@example.org`);
    const [temp, drop] = [`temp-${randomId()}@example.org`, `drop-${randomId()}@example.org`];
    const { events, requeued } = await runDeliveries([packJob(domain, oks.slice(0, 15)), packJob(domain, [...oks.slice(15), temp, drop])]);
    expect(
      events
        .filter((e) => e.event === "delivered")
        .map((e) => e.recipient)
        .sort(),
    ).toEqual([...oks].sort());
    expect(
      events
        .filter((e) => e.event === "failed")
        .map((e) => [e.recipient, e.severity, e["delivery-status"].code])
        .sort(),
    ).toEqual(
      [
        [temp, "temporary", 451],
        [drop, "temporary", 0],
      ].sort(),
    );
    expect(requeued.flatMap((r) => r.body.recipients).sort()).toEqual([temp, drop].sort());
    const sessions = new Set<number>();
    for (const ok of oks) sessions.add(((await relayed(ok)) as unknown as Array<{ session: number }>)[0]!.session);
    // SMTP_SESSIONS_AT_ONCE sessions at most (a session after a failure is a fresh one), not one per recipient.
    expect(sessions.size).toBeLessThanOrEqual(7);
  });

  it("reads a pack from R2, retries from the same object, and deletes it once no recipient is left", async () => {
    const domain = uniqueDomain("pkr2");
    const ok = `ok-${randomId()}@example.org`;
    const flaky = `flaky-1-${randomId()}@example.org`;
    const inline = packJob(domain, [ok, flaky]);
    const packKey = outgoingPackKey(domain, inline.messageId, 0);
    await putOutgoingPack(testEnv.MESSAGES, packKey, inline.pack!.facts, inline.pack!.copies);
    const job: DeliveryPackJob = { ...inline, pack: undefined, packKey };
    const first = await runDeliveries([job]);
    expect(first.events.map((e) => [e.recipient, e.event]).sort()).toEqual(
      [
        [flaky, "failed"],
        [ok, "delivered"],
      ].sort(),
    );
    expect(first.requeued[0]!.body).toMatchObject({ attempt: 2, recipients: [flaky], packKey });
    expect(await testEnv.MESSAGES.head(packKey)).not.toBeNull();
    const second = await runDeliveries([first.requeued[0]!.body]);
    expect(second.events).toMatchObject([{ event: "delivered", recipient: flaky, "delivery-status": { "attempt-no": 2 } }]);
    expect(second.requeued).toEqual([]);
    expect(await testEnv.MESSAGES.head(packKey)).toBeNull();
    expect(await relayed(ok)).toHaveLength(1);
  });

  it("fails every recipient of a pack whose copies are no longer stored, and parks malformed packs", async () => {
    const domain = uniqueDomain("pkgone");
    const recipients = [`ok-${randomId()}@example.org`, `ok-${randomId()}@example.org`];
    const gone = await runDeliveries([{ ...packJob(domain, recipients), pack: undefined, packKey: outgoingPackKey(domain, "gone@x", 0) }]);
    expect(gone.events.map((e) => [e.recipient, e.severity, e.reason]).sort()).toEqual(recipients.map((r) => [r, "permanent", "old"]).sort());
    expect(gone.requeued).toEqual([]);
    const both = await runDeliveries([
      { ...packJob(domain, recipients), packKey: "outgoing/x" },
      { ...packJob(domain, recipients), pack: undefined },
    ]);
    expect(both.parked).toHaveLength(2);
    expect(both.events).toEqual([]);
  });
});
