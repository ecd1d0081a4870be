// A 1,000-recipient send end to end (issue 11, items 4 and 5): its headers are stored once, its
// compose packs and events travel in a few dozen queue messages, and every recipient still gets
// its own accepted and delivered events, with the shapes the Events API always served.
import { env, SELF } from "cloudflare:test";
import PostalMime from "postal-mime";
import { describe, expect, inject, it } from "vitest";
import { randomId } from "../../src/domain/base64url";
import type { Env } from "../../src/env";
import {
  apiWith,
  copiesOf,
  createDomain,
  everyPartition,
  form,
  linksIn,
  listEvents,
  recordingQueues,
  runQueueBatch,
  scriptedRelay,
  storedEvents,
  storedRows,
  uniqueDomain,
  waitFor,
} from "../helpers";

const testEnv = env as unknown as Env;
/** Cloudflare Queues: 128 KB per message, 1 KB being 1,000 bytes. */
const QUEUE_MESSAGE_LIMIT = 128_000;

/**
 * Sends through the Worker, the queues recording. With `compose`, the delivery queue runs the
 * consumer's compose stage on what it gets (recordingQueues); without, it only records.
 */
async function sendToMany(domain: string, recipients: string[], extra: Record<string, string> = {}, compose = true) {
  const recorded = compose ? recordingQueues(testEnv) : onlyRecording();
  const response = await apiWith(recorded.env, `/v3/${domain}/messages`, {
    method: "POST",
    body: form({
      from: `Sender <me@${domain}>`,
      to: recipients.join(", "),
      subject: "Big news",
      text: "Hello",
      html: "<p>Hello</p>",
      "o:tag": "big",
      "v:campaign": "c1",
      ...extra,
    }),
  });
  const body = (await response.json()) as { id?: string; message: string };
  expect(response.status, body.message).toBe(200);
  return { ...recorded, messageId: body.id!.slice(1, -1) };
}

function onlyRecording() {
  const jobs: unknown[] = [];
  const eventMessages: unknown[] = [];
  const record = (into: unknown[]) => ({
    send: async (b: unknown) => void into.push(b),
    sendBatch: async (bs: Array<{ body: unknown }>) => void into.push(...bs.map((m) => m.body)),
  });
  return { env: { ...testEnv, DELIVERY: record(jobs), ...everyPartition("events", record(eventMessages)) } as unknown as Env, jobs, eventMessages };
}

async function rowCount(table: "messages" | "message_facts", domain: string): Promise<number> {
  return (await storedRows(table, domain)).length;
}

/** The delivery consumer against the scripted relay, recording what it queues. */
async function deliver(jobs: unknown[]) {
  const eventMessages: unknown[] = [];
  const requeued: unknown[] = [];
  const record = (into: unknown[]) => ({
    send: async (b: unknown) => void into.push(b),
    sendBatch: async (bs: Array<{ body: unknown }>) => void into.push(...bs.map((m) => m.body)),
  });
  const deliveryEnv: Env = {
    ...testEnv,
    ...scriptedRelay(),
    ...everyPartition("events", record(eventMessages)),
    DELIVERY: record(requeued) as unknown as Env["DELIVERY"],
  };
  const { result } = await runQueueBatch("tidings-delivery", jobs, deliveryEnv);
  return { eventMessages, requeued, result };
}

/**
 * The events consumer, as the queue would run it: batches of at most 100 messages, and the packs
 * an invocation sends back to the queue (past its budget) in later batches. Returns the invocations.
 */
async function store(messages: unknown[]): Promise<number> {
  let pending = messages;
  let invocations = 0;
  while (pending.length > 0) {
    const sentBack: unknown[] = [];
    const storeEnv: Env = {
      ...testEnv,
      ...everyPartition("events", { sendBatch: async (bs: Array<{ body: unknown }>) => void sentBack.push(...bs.map((m) => m.body)) }),
    };
    for (let i = 0; i < pending.length; i += 100) {
      const { batch, result } = await runQueueBatch("tidings-events", pending.slice(i, i + 100), storeEnv);
      invocations++;
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toHaveLength(batch.messages.length);
    }
    pending = sentBack;
  }
  return invocations;
}

describe("a message to 1,000 addresses in its To header", () => {
  it("stores the To header once, and an open still carries the message's headers, tags and variables (item 4)", async () => {
    const domain = uniqueDomain("many");
    await createDomain(domain, { open: true });
    const recipients = Array.from({ length: 1000 }, (_, i) => `reader${i}@example.org`);
    const sent = await sendToMany(domain, recipients);
    // One row for the message; none repeats the header per recipient.
    expect(await rowCount("message_facts", domain)).toBe(1);
    expect(await rowCount("messages", domain)).toBe(0);

    const copy = (await copiesOf(testEnv, sent.jobs)).find((c) => c.recipient === recipients[500]);
    const pixel = linksIn((await PostalMime.parse(copy!.mime)).html!).open[0]!;
    await SELF.fetch(pixel, { headers: { "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36" } });
    const opened = await waitFor(async () => (await listEvents(domain, "event=opened")).items[0]);
    expect(opened).toMatchObject({
      event: "opened",
      recipient: recipients[500],
      message: { headers: { to: recipients.join(", "), from: `Sender <me@${domain}>`, subject: "Big news", "message-id": sent.messageId } },
      tags: ["big"],
      "user-variables": { campaign: "c1" },
    });
    expect(Object.keys(opened.message.headers).sort()).toEqual(["from", "message-id", "subject", "to"]);
  });

  it("writes each recipient's own metadata in chunks by bytes when a batch send varies per recipient", async () => {
    const domain = uniqueDomain("vars");
    await createDomain(domain, { open: true });
    const recipients = Array.from({ length: 1000 }, (_, i) => `reader${i}@example.org`);
    const variables = Object.fromEntries(recipients.map((r, i) => [r, { note: `${i}:${"n".repeat(1500)}` }]));
    const sent = await sendToMany(domain, recipients, {
      "recipient-variables": JSON.stringify(variables),
      "v:note": "%recipient.note%",
      subject: "For %recipient.note%",
    });
    expect(await rowCount("message_facts", domain)).toBe(1);
    const row = (await storedRows("messages", domain)).find((r) => r.recipient === recipients[7]);
    expect(JSON.parse(row!.headers)).toEqual({ to: recipients[7], subject: `For ${variables[recipients[7]!]!.note}` });
    expect(JSON.parse(row!.user_variables)).toEqual({ campaign: "c1", note: variables[recipients[7]!]!.note });
    expect(await rowCount("messages", domain)).toBe(1000);
    expect(sent.jobs.length).toBeLessThanOrEqual(30);
  });
});

describe("a 1,000-recipient send through the queues (item 5)", () => {
  it("is a few dozen queue messages, and every recipient is accepted and delivered with Mailgun's event shapes", async () => {
    const domain = uniqueDomain("pack");
    await createDomain(domain);
    const run = randomId().slice(0, 8); // short: every accepted event carries all 1,000 addresses twice
    const recipients = Array.from({ length: 1000 }, (_, i) => `ok-${run}-${i}@example.org`);
    const sent = await sendToMany(domain, recipients, {}, false);

    // The request queues compose packs only; the consumer writes the accepted events, then the outcomes.
    expect(sent.jobs.length).toBeLessThanOrEqual(12);
    expect(sent.eventMessages).toEqual([]);
    for (const body of sent.jobs) expect(new TextEncoder().encode(JSON.stringify(body)).length).toBeLessThan(QUEUE_MESSAGE_LIMIT);

    const delivered = await deliver(sent.jobs);
    expect(delivered.result.explicitAcks).toHaveLength(sent.jobs.length);
    expect(delivered.requeued).toEqual([]);
    expect(delivered.eventMessages.length).toBeLessThanOrEqual(30);
    for (const body of delivered.eventMessages) expect(new TextEncoder().encode(JSON.stringify(body)).length).toBeLessThan(QUEUE_MESSAGE_LIMIT);
    const relayed = await fetch(`http://127.0.0.1:${inject("smtpControlPort")}/messages?to=${encodeURIComponent(recipients[999]!)}`);
    expect(((await relayed.json()) as unknown[]).length).toBe(1);

    // Each invocation stores what it can within its budget and sends the rest back to the queue.
    expect(await store(delivered.eventMessages)).toBeLessThanOrEqual(20);
    const rows = await storedEvents(domain);
    const counts = [...new Set(rows.map((row) => row.event))].sort().map((event) => {
      const of = rows.filter((row) => row.event === event);
      return { event, n: new Set(of.map((row) => row.recipient)).size, total: of.length };
    });
    expect(counts).toEqual([
      { event: "accepted", n: 1000, total: 1000 },
      { event: "delivered", n: 1000, total: 1000 },
    ]);
    // The same shapes as one queue message per event gave.
    const to = recipients.join(", ");
    const headers = { to, from: `Sender <me@${domain}>`, subject: "Big news", "message-id": sent.messageId };
    const accepted = (await listEvents(domain, `event=accepted&recipient=${recipients[321]}`)).items[0]!;
    expect(accepted).toMatchObject({
      event: "accepted",
      "log-level": "info",
      method: "http",
      recipient: recipients[321],
      "recipient-domain": "example.org",
      envelope: { sender: `me@${domain}`, targets: recipients[321] },
      flags: { "is-authenticated": true, "is-test-mode": false },
      message: { headers, recipients, attachments: [] },
      tags: ["big"],
      campaigns: [],
      "user-variables": { campaign: "c1" },
      storage: { key: expect.any(String), url: expect.any(String) },
    });
    expect(accepted.message.size).toBeGreaterThan(200);
    const deliveredEvent = (await listEvents(domain, `event=delivered&recipient=${recipients[654]}`)).items[0]!;
    expect(deliveredEvent).toMatchObject({
      event: "delivered",
      recipient: recipients[654],
      envelope: { transport: "smtp", targets: recipients[654] },
      message: { headers },
      tags: ["big"],
      "user-variables": { campaign: "c1" },
      "delivery-status": { code: 250, "attempt-no": 1 },
    });
    expect(Object.keys(deliveredEvent.message).sort()).toEqual(["headers", "size"]);
    expect(deliveredEvent.storage).toEqual(accepted.storage);
  }, 90_000); // 1,000 SMTP deliveries to the scripted relay: slow on a loaded 2-core machine, so not the 20 s default
});
