// mailgun.js 14, unchanged, against a running Worker: domains, tracking settings, events.get
// with paging, sending, and stored messages, as its users call them.
import Mailgun from "mailgun.js";
import { beforeAll, describe, expect, it } from "vitest";
import { sharedWorker } from "./start-worker";

const worker = sharedWorker();
let mg: ReturnType<InstanceType<typeof Mailgun>["client"]>;
const DOMAIN = "mgjs.example.com";

beforeAll(async () => {
  mg = new Mailgun(FormData).client({ username: "api", key: worker.apiKey, url: worker.url });
});

async function prepare(messageId: string, recipient: string): Promise<{ html: string }> {
  const response = await fetch(`${worker.url}/v1/tracking/prepare`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`api:${worker.apiKey}`)}`, "content-type": "application/json" },
    body: JSON.stringify({ domain: DOMAIN, message_id: messageId, recipient, html: '<body><a href="https://example.org/x">x</a></body>', tags: ["mgjs"] }),
  });
  expect(response.status).toBe(200);
  return response.json() as Promise<{ html: string }>;
}

describe("mailgun.js against Tidings", () => {
  it("creates and reads a domain and its tracking settings", async () => {
    const created = await mg.domains.create({ name: DOMAIN });
    expect(created.name).toBe(DOMAIN);
    const domain = await mg.domains.get(DOMAIN);
    expect(domain.name).toBe(DOMAIN);
    expect(domain.sending_dns_records?.some((r: { name: string }) => r.name === `email.${DOMAIN}`)).toBe(true);
    expect((await mg.domains.list()).map((d: { name: string }) => d.name)).toContain(DOMAIN);

    await mg.domains.domainTracking.updateTracking(DOMAIN, "open", { active: true });
    await mg.domains.domainTracking.updateTracking(DOMAIN, "click", { active: true });
    const tracking = await mg.domains.domainTracking.getTracking(DOMAIN);
    expect(tracking.open.active).toBe(true);
    expect(tracking.click.active).toBe(true);
  });

  it("reads opens through events.get and pages with its page tokens", async () => {
    const opened: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { html } = await prepare(`mgjs-${i}@x`, `reader${i}@example.org`);
      const pixel = /src="([^"]+\/o\/[^"]+)"/.exec(html)![1]!;
      expect((await fetch(pixel)).headers.get("content-type")).toBe("image/gif");
      opened.push(`reader${i}@example.org`);
    }
    // The local queue delivers a batch within a second or so.
    for (let tries = 0; tries < 50; tries++) {
      if ((await mg.events.get(DOMAIN, { event: "opened", limit: 300 })).items.length === 5) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const first = await mg.events.get(DOMAIN, { event: "opened", limit: 2, ascending: "yes" });
    expect(first.items).toHaveLength(2);
    expect(first.pages.next.page).toMatch(/^[A-Za-z0-9_-]+$/);

    const seen: string[] = [];
    let page = await mg.events.get(DOMAIN, { event: "opened", limit: 2, ascending: "yes" });
    while (page.items.length > 0) {
      seen.push(...page.items.map((e: { recipient: string }) => e.recipient));
      page = await mg.events.get(DOMAIN, { page: page.pages.next.page });
    }
    // Hits in the same millisecond are ordered by event id, so compare as sets.
    expect(seen).toHaveLength(5);
    expect([...seen].sort()).toEqual(opened);
    const item = (await mg.events.get(DOMAIN, { recipient: "reader3@example.org" })).items[0]!;
    expect(item).toMatchObject({ event: "opened", recipient: "reader3@example.org", tags: ["mgjs"] });
    expect(typeof item.timestamp).toBe("number");
  });

  it("sends with messages.create and reads the accepted events", async () => {
    const sent = await mg.messages.create(DOMAIN, {
      from: `Me <me@${DOMAIN}>`,
      to: ["ann@example.org", "bob@example.org"],
      subject: "Hello %recipient.name%",
      text: "Hi %recipient.name%",
      html: "<p>Hi %recipient.name%</p>",
      "o:tag": ["mgjs-send", "second"],
      "o:testmode": true,
      "recipient-variables": JSON.stringify({ "ann@example.org": { name: "Ann" }, "bob@example.org": { name: "Bob" } }),
      attachment: [{ filename: "note.txt", data: "hello" }],
    });
    expect(sent.status).toBe(200);
    expect(sent.message).toBe("Queued. Thank you.");
    expect(sent.id).toMatch(/^<.+>$/);
    let accepted: Array<{ recipient: string; message: { headers: Record<string, string>; attachments: unknown[] } }> = [];
    for (let tries = 0; tries < 50 && accepted.length < 2; tries++) {
      accepted = (await mg.events.get(DOMAIN, { event: "accepted", "message-id": sent.id!.slice(1, -1) })).items as typeof accepted;
      if (accepted.length < 2) await new Promise((r) => setTimeout(r, 200));
    }
    expect(accepted.map((e) => e.recipient).sort()).toEqual(["ann@example.org", "bob@example.org"]);
    expect(accepted.find((e) => e.recipient === "bob@example.org")!.message.headers.subject).toBe("Hello Bob");
    expect(accepted[0]!.message.attachments).toEqual([{ filename: "note.txt", "content-type": expect.any(String), size: 5 }]);
  });

  it("reads a stored message with messages.retrieveStoredEmail and sends it again with resendEmail", async () => {
    const sent = await mg.messages.create(DOMAIN, { from: `Me <me@${DOMAIN}>`, to: "cat@example.org", subject: "Stored", text: "Keep me", "o:testmode": true });
    let storage: { key: string; url: string } | undefined;
    for (let tries = 0; tries < 50 && !storage; tries++) {
      const [event] = (await mg.events.get(DOMAIN, { event: "accepted", "message-id": sent.id!.slice(1, -1) })).items as Array<{
        storage?: { key: string; url: string };
      }>;
      storage = event?.storage;
      if (!storage) await new Promise((r) => setTimeout(r, 200));
    }
    expect(storage!.url).toBe(`${worker.url}/v3/domains/${DOMAIN}/messages/${storage!.key}`);
    // mailgun.js 14's MessagesClient has these two methods; its IMessagesClient type does not list them.
    const messages = mg.messages as unknown as {
      retrieveStoredEmail(domain: string, key: string): Promise<Record<string, unknown>>;
      resendEmail(domain: string, key: string, to: string): Promise<{ status: number; id?: string; message?: string }>;
    };
    const stored = await messages.retrieveStoredEmail(DOMAIN, storage!.key);
    expect(stored).toMatchObject({ Subject: "Stored", sender: `me@${DOMAIN}`, recipients: "cat@example.org", "body-plain": "Keep me" });
    const resent = await messages.resendEmail(DOMAIN, storage!.key, "dog@example.org");
    expect(resent).toMatchObject({ status: 200, message: "Queued. Thank you.", id: expect.stringMatching(/^<.+>$/) });
    let again: Array<{ recipient: string }> = [];
    for (let tries = 0; tries < 50 && again.length === 0; tries++) {
      again = (await mg.events.get(DOMAIN, { event: "accepted", "message-id": resent.id!.slice(1, -1) })).items as typeof again;
      if (again.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(again.map((e) => e.recipient)).toEqual(["dog@example.org"]);
    await expect(messages.retrieveStoredEmail(DOMAIN, "20260101-AAAAAAAAAAAAAAAAAAAAAA")).rejects.toMatchObject({ status: 404 });
  });

  it("surfaces Tidings' 400 and 404 messages through mailgun.js errors", async () => {
    await expect(mg.events.get(DOMAIN, { limit: 500 })).rejects.toMatchObject({ status: 400, details: "'limit' must be an integer from 1 to 300" });
    await expect(mg.domains.get("nope.example.com")).rejects.toMatchObject({ status: 404 });
  });
});
