// Webhook packs, the pure part (issue 11, item 5): packs that unpack to exactly the events that
// were packed, for the webhook each fires, within 100 events and the byte limit given, the
// shared part of one message's events written once. Random events from a seeded generator.
import { describe, expect, it } from "vitest";
import { acceptedEvent, deliveredEvent, failedEvent, type MessageFacts } from "../../src/domain/send-events";
import { jsonByteLength } from "../../src/domain/utf8";
import { MAX_EVENTS_PER_WEBHOOK_PACK, packWebhookItems, unpackWebhookItems, type WebhookItem } from "../../src/domain/webhook-packs";
import { webhookFor, webhookPackSchema } from "../../src/domain/webhooks";
import { pick, seededRandom } from "../support/prng";

/** Events of a few messages, of every kind the send path makes, with non-ASCII and large values. */
function randomItems(next: () => number, count: number): WebhookItem[] {
  const messages = Array.from({ length: 1 + Math.floor(next() * 4) }, (_, m) => {
    const recipients = Array.from({ length: 1 + Math.floor(next() * 300) }, (_, i) => `r${i}.${pick(next, ["a", "é", "☃", "😀"])}@example.org`);
    const facts: MessageFacts = {
      domain: "mg.example.com",
      messageId: `m${m}.${Math.floor(next() * 1e9)}@mg.example.com`,
      headers: { to: recipients.slice(0, 3).join(", "), from: "news@mg.example.com", subject: pick(next, ["Hello", "Grüße ☃", "x".repeat(500)]) },
      tags: pick(next, [[], ["a"], ["a", "b"]]),
      userVariables: pick(next, [{}, { n: 1 }, { deep: { list: [1, "two", null] } }]),
      size: Math.floor(next() * 1e6),
    };
    return { facts, recipients };
  });
  return Array.from({ length: count }, (_, i) => {
    const { facts, recipients } = pick(next, messages);
    const recipient = pick(next, recipients);
    const at = { ms: 1.7e12 + i };
    const status = { code: 250, message: "OK ".repeat(Math.floor(next() * 50)), attemptNo: 1 };
    const event = pick(next, [
      () => acceptedEvent(facts, recipient, { recipients, method: "http", sender: "news@mg.example.com", attachments: [] }, at),
      () => deliveredEvent(facts, recipient, status, at),
      () => failedEvent(facts, recipient, { severity: pick(next, ["temporary", "permanent"] as const), reason: "generic", status }, at),
    ])();
    return { webhook: webhookFor(event)!, event: event as unknown as Record<string, unknown> };
  });
}

/** Round trip through JSON, as a queue message travels. */
const travel = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe("webhook packs", () => {
  it("unpack to exactly the events packed, each with its webhook, within 100 events and the byte limit", () => {
    const next = seededRandom(5);
    for (let round = 0; round < 40; round++) {
      const items = randomItems(next, 1 + Math.floor(next() * 400));
      const maxBytes = pick(next, [20_000, 60_000, 120_000]);
      const packs = packWebhookItems("mg.example.com", "https://hooks.example.org/é", 3, items, maxBytes);
      for (const pack of packs) {
        expect(jsonByteLength(pack)).toBeLessThanOrEqual(maxBytes);
        const events = pack.groups.reduce((n, g) => n + g.events.length, 0);
        expect(events).toBeGreaterThan(0);
        expect(events).toBeLessThanOrEqual(MAX_EVENTS_PER_WEBHOOK_PACK);
        expect(webhookPackSchema.safeParse(travel(pack)).success).toBe(true);
        expect(pack).toMatchObject({ type: "webhook", v: 2, domain: "mg.example.com", url: "https://hooks.example.org/é", attempt: 3 });
      }
      const unpacked = packs.flatMap((pack) => unpackWebhookItems(travel(pack)));
      const byId = (list: WebhookItem[]) => new Map(list.map((item) => [item.event.id as string, item]));
      expect(byId(unpacked)).toEqual(byId(travel(items)));
      expect(unpacked).toHaveLength(items.length);
    }
  });

  it("writes the shared part of one message's events once: 1,000 accepted events with a 1,000-address list are 10 packs", () => {
    const recipients = Array.from({ length: 1000 }, (_, i) => `reader${i}@example.org`);
    const facts: MessageFacts = {
      domain: "mg.example.com",
      messageId: "big@mg.example.com",
      headers: { to: recipients.join(", ").slice(0, 2000) },
      tags: [],
      userVariables: {},
    };
    const items = recipients.map((recipient, i) => {
      const event = acceptedEvent(facts, recipient, { recipients, method: "http", sender: "a@mg.example.com", attachments: [] }, { ms: 1.7e12 + i });
      return { webhook: "accepted" as const, event: event as unknown as Record<string, unknown> };
    });
    // Alone, each event carries the whole list (over 20 KB): 5 would fill a queue message.
    expect(jsonByteLength(items[0]!.event)).toBeGreaterThan(20_000);
    const packs = packWebhookItems("mg.example.com", "https://hooks.example.org/", 1, items, 120_000);
    expect(packs).toHaveLength(10);
    expect(packs.every((p) => p.groups.length === 1 && p.groups[0]!.events.length === 100)).toBe(true);
  });

  it("gives back events without message headers as they were, without adding any", () => {
    const items: WebhookItem[] = [
      { webhook: "opened", event: { id: "a1", event: "opened" } },
      { webhook: "opened", event: { id: "a2", event: "opened", message: "not an object" } },
      { webhook: "opened", event: { id: "a3", event: "opened", message: { size: 3 } } },
      { webhook: "opened", event: { id: "a4", event: "opened", message: { headers: { "message-id": "m" } } } },
    ];
    const [pack] = packWebhookItems("mg.example.com", "https://hooks.example.org/", 1, items, 120_000);
    expect(unpackWebhookItems(travel(pack!)).sort((x, y) => String(x.event.id).localeCompare(String(y.event.id)))).toEqual(items);
  });

  it("refuses an event that cannot fit a queue message alone", () => {
    const items = randomItems(seededRandom(9), 3);
    expect(() => packWebhookItems("mg.example.com", "https://hooks.example.org/", 1, items, 300)).toThrow(RangeError);
  });

  it("checks packs at the consumer: at most 100 events, a known webhook id, at least one group", () => {
    const [pack] = packWebhookItems("mg.example.com", "https://hooks.example.org/", 1, randomItems(seededRandom(3), 20), 120_000);
    const plain = travel(pack!);
    expect(webhookPackSchema.safeParse(plain).success).toBe(true);
    const group = plain.groups[0]!;
    expect(webhookPackSchema.safeParse({ ...plain, groups: [{ ...group, events: Array(101).fill({}) }] }).success).toBe(false);
    expect(webhookPackSchema.safeParse({ ...plain, groups: [{ ...group, webhook: "bounced" }] }).success).toBe(false);
    expect(webhookPackSchema.safeParse({ ...plain, groups: [] }).success).toBe(false);
  });
});
