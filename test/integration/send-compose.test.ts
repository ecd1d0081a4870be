// Where a send's per-copy work happens: the Messages API validates, checks suppressions, stores the
// request and its metadata, and queues compose packs (recipients, no copies); the delivery
// consumer builds each copy (tracking, tokens, MIME, VERP), saves its return paths, writes the
// accepted events with each copy's exact size, then delivers. So accepting 1,000 recipients costs
// no copy building in the request.
import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { randomId } from "../../src/domain/base64url";
import type { Env } from "../../src/env";
import { apiWith, createDomain, everyPartition, form, runQueueBatch, scriptedRelay, storedRows, uniqueDomain, unpackEventMessages } from "../helpers";

const testEnv = env as unknown as Env;
const bytes = (text: string) => new TextEncoder().encode(text).length;

/** Queues that keep what is sent and run nothing behind it. */
function rawQueues() {
  const jobs: Array<{ body: any; delaySeconds?: number }> = [];
  const eventMessages: unknown[] = [];
  const queue = (into: (body: unknown, delaySeconds?: number) => void) => ({
    send: async (body: unknown, o?: { delaySeconds?: number }) => into(body, o?.delaySeconds),
    sendBatch: async (bs: Array<{ body: unknown; delaySeconds?: number }>) => bs.forEach((m) => into(m.body, m.delaySeconds)),
  });
  const recordingEnv: Env = {
    ...testEnv,
    DELIVERY: queue((body, delaySeconds) => jobs.push({ body, delaySeconds })) as unknown as Env["DELIVERY"],
    ...everyPartition(
      "events",
      queue((body) => eventMessages.push(body)),
    ),
  };
  return { env: recordingEnv, jobs, eventMessages };
}

/** The delivery consumer, as the queue runs it, against the scripted relay; records what it sends. */
async function consume(jobs: unknown[], overrides: Partial<Env> = {}) {
  const out = rawQueues();
  const deliveryEnv: Env = {
    ...testEnv,
    ...scriptedRelay(),
    DELIVERY: out.env.DELIVERY,
    ...everyPartition("events", out.env.EVENTS),
    ...overrides,
  };
  const { result } = await runQueueBatch("tidings-delivery", jobs, deliveryEnv);
  return { result, requeued: out.jobs, events: unpackEventMessages(out.eventMessages).map((m) => m.event) };
}

async function relayed(recipient: string): Promise<Array<{ from: string; data: string }>> {
  return (await fetch(`http://127.0.0.1:${inject("smtpControlPort")}/messages?to=${encodeURIComponent(recipient)}`)).json();
}

async function rows(table: "return_paths", domain: string): Promise<number> {
  return (await storedRows(table, domain)).length;
}

async function outgoingObjects(domain: string): Promise<string[]> {
  return (await testEnv.MESSAGES.list({ prefix: `outgoing/${domain}/` })).objects.map((o) => o.key);
}

async function send(domain: string, to: string[], extra: Record<string, string> = {}) {
  const queues = rawQueues();
  const body = form({
    from: `Sender <me@${domain}>`,
    to: to.join(", "),
    subject: "Hello %recipient.name%",
    text: "Hi https://example.org/a",
    "o:tag": "news",
    ...extra,
  });
  body.append("html", '<p>Hi %recipient.name%, <a href="https://example.org/a">read</a></p>');
  const response = await apiWith(queues.env, `/v3/${domain}/messages`, { method: "POST", body });
  const answer = (await response.json()) as { id?: string; message: string };
  expect(response.status, answer.message).toBe(200);
  return { ...queues, messageId: answer.id!.slice(1, -1) };
}

describe("the Messages API queues compose packs, the delivery consumer builds the copies", () => {
  it("builds no copy in the request; the consumer writes accepted events with each copy's exact size, then delivers", async () => {
    const domain = uniqueDomain("compose");
    await createDomain(domain, { open: true, click: "yes", unsubscribe: true });
    const run = randomId().slice(0, 6);
    const suppressed = `gone-${run}@example.org`;
    const temp = `temp-${run}@example.org`;
    const recipients = [...Array.from({ length: 247 }, (_, i) => `ok-${run}-${i}@example.org`), suppressed, temp];
    const state = testEnv.DOMAIN_STATE.get(testEnv.DOMAIN_STATE.idFromName(domain));
    await state.addBounces([{ address: suppressed, code: 550, error: "gone", createdAt: Date.now() }]);
    const variables = Object.fromEntries(recipients.map((r, i) => [r, { name: `Reader ${i}` }]));
    const sent = await send(domain, recipients, { "recipient-variables": JSON.stringify(variables) });

    // The request: packs of recipients, no copies, no events, no return paths, nothing in outgoing/.
    expect(sent.eventMessages).toEqual([]);
    expect(sent.jobs.length).toBe(3);
    for (const { body, delaySeconds } of sent.jobs) {
      expect(body).toMatchObject({ type: "delivery", v: 3, domain, messageId: sent.messageId, attempt: 1 });
      expect(body.pack).toBeUndefined();
      expect(body.packKey).toBeUndefined();
      expect(JSON.stringify(body)).not.toContain("List-Unsubscribe");
      expect(delaySeconds).toBeUndefined();
    }
    expect(sent.jobs.flatMap((j) => j.body.recipients.map((r: { address: string }) => r.address))).toEqual(recipients);
    expect(sent.jobs.flatMap((j) => j.body.recipients.filter((r: { suppressed?: string }) => r.suppressed))).toEqual([
      { address: suppressed, suppressed: "suppress-bounce" },
    ]);
    expect(await outgoingObjects(domain)).toEqual([]);
    expect(await rows("return_paths", domain)).toBe(0);

    // The consumer: return paths, accepted events with exact sizes, the suppressed recipient's 605, deliveries.
    const first = await consume(sent.jobs.map((j) => j.body));
    expect(first.result.explicitAcks).toHaveLength(3);
    expect(await rows("return_paths", domain)).toBe(recipients.length - 1);
    const accepted = first.events.filter((e) => e.event === "accepted");
    expect(accepted.map((e) => e.recipient)).toEqual(recipients);
    const ann = accepted[7];
    expect(ann).toMatchObject({
      event: "accepted",
      method: "http",
      timestamp: expect.any(Number),
      flags: { "is-authenticated": true, "is-test-mode": false },
      envelope: { sender: `me@${domain}`, targets: recipients[7] },
      message: {
        headers: { to: recipients[7], subject: "Hello Reader 7", "message-id": sent.messageId, from: `Sender <me@${domain}>` },
        recipients: [recipients[7]],
        attachments: [],
      },
      tags: ["news"],
      storage: { key: expect.any(String), url: expect.any(String) },
    });
    for (const i of [0, 7, 246]) {
      const copy = (await relayed(recipients[i]!))[0]!;
      expect(copy.data).toContain("Hello Reader");
      expect(accepted[i].message.size).toBe(bytes(copy.data));
    }
    expect(first.events.find((e) => e.event === "failed" && e.recipient === suppressed)).toMatchObject({
      severity: "permanent",
      reason: "suppress-bounce",
      "delivery-status": { code: 605 },
    });
    expect(first.events.filter((e) => e.event === "delivered")).toHaveLength(247);
    expect(await relayed(suppressed)).toEqual([]);

    // A retry carries only the recipient that failed, no copy, and writes no second accepted event.
    expect(first.requeued).toHaveLength(1);
    expect(first.requeued[0]!.delaySeconds).toBe(600);
    expect(first.requeued[0]!.body).toMatchObject({ v: 3, attempt: 2, recipients: [{ address: temp }] });
    const retried = await consume([first.requeued[0]!.body]);
    expect(retried.events.map((e) => [e.event, e.recipient, e["delivery-status"]?.["attempt-no"]])).toEqual([["failed", temp, 2]]);
    expect(retried.events[0].message.size).toBe(accepted.at(-1).message.size);

    // A redelivered pack writes the same accepted event ids (stored once).
    const again = await consume([sent.jobs[0]!.body]);
    expect(again.events.filter((e) => e.event === "accepted").map((e) => e.id)).toEqual(accepted.slice(0, 100).map((e) => e.id));
  });

  it("composes a scheduled message at once (accepted events now) and holds its copies until their time", async () => {
    const domain = uniqueDomain("sched");
    await createDomain(domain, { open: true });
    const recipient = `ok-${randomId()}@example.org`;
    const sent = await send(domain, [recipient], { "o:deliverytime": new Date(Date.now() + 3_600_000).toUTCString() });
    expect(sent.jobs.map((j) => [j.body.v, j.delaySeconds])).toEqual([[3, undefined]]);
    const composed = await consume(sent.jobs.map((j) => j.body));
    expect(composed.events.map((e) => e.event)).toEqual(["accepted"]);
    expect(composed.requeued).toHaveLength(1);
    const held = composed.requeued[0]!;
    expect(held.delaySeconds).toBeGreaterThan(3500);
    expect(held.body).toMatchObject({ v: 2, attempt: 1, recipients: [recipient] });
    expect(bytes(held.body.pack.copies[0].mime)).toBe(composed.events[0].message.size);
    expect(await relayed(recipient)).toEqual([]);
  });

  it("fails the recipients as old when the stored request is gone", async () => {
    const domain = uniqueDomain("gone");
    await createDomain(domain);
    const recipients = [`ok-${randomId()}@example.org`, `ok-${randomId()}@example.org`];
    const sent = await send(domain, recipients);
    const job = sent.jobs[0]!.body;
    const day = job.storage.key.slice(0, 8);
    await testEnv.MESSAGES.delete(`stored/${day}/${domain}/${job.storage.key}`);
    const { events, requeued, result } = await consume([job]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(requeued).toEqual([]);
    expect(events.map((e) => [e.event, e.recipient, e.severity, e.reason])).toEqual(recipients.map((r) => ["failed", r, "permanent", "old"]));
    expect(events[0].storage).toEqual(job.storage);
  });
});
