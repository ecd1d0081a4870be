// Stored messages through the Worker: every accepted message is kept as submitted, its events and
// delivery jobs carry Mailgun's `storage`, GET shows it (with body-mime on request), POST resends
// it, unknown or expired keys are 404, the panel's Logs link to it, and the cron purge drops days
// past retention.
import { env, SELF } from "cloudflare:test";
import PostalMime from "postal-mime";
import { describe, expect, it } from "vitest";
import type { MessageRequest } from "../../src/api/message-form";
import { loadStoredMessage, purgeStoredMessages, STORED_MESSAGE_DAYS, storeMessage } from "../../src/db/stored-messages";
import type { Env } from "../../src/env";
import { newSessionCookieValue } from "../../src/panel/session";
import { API_KEY, api, apiWith, createDomain, form, listEvents, recordingQueues, uniqueDomain, waitFor } from "../helpers";

const testEnv = env as unknown as Env;
const DAY = 86_400_000;
const json = async (response: Response) => (await response.json()) as any;

function messageForm(domain: string, to: string): FormData {
  const body = form({
    from: `Shop <shop@${domain}>`,
    to,
    cc: "Cy <cy@example.org>",
    subject: "Spring sale",
    text: "Hi! https://shop.test/sale",
    "v:campaign": "spring",
    "h:Reply-To": `help@${domain}`,
  });
  body.append("html", '<p>Hi! <a href="https://shop.test/sale">Sale</a></p>');
  body.append("o:tag", "newsletter");
  body.append("attachment", new File(["col1,col2\n1,2\n"], "report.csv", { type: "text/csv" }));
  return body;
}

async function sendOne(domain: string) {
  const recorded = recordingQueues(testEnv);
  const response = await apiWith(recorded.env, `/v3/${domain}/messages`, { method: "POST", body: messageForm(domain, "Ann <ann@example.org>") });
  expect(response.status).toBe(200);
  const accepted = recorded.events.map((e) => e.event).filter((e) => e.event === "accepted");
  return { ...(await json(response)), accepted, deliveries: recorded.deliveries, storage: accepted[0].storage as { key: string; url: string } };
}

describe("stored messages", () => {
  it("keeps each accepted message once, and its events and deliveries say where", async () => {
    const domain = uniqueDomain("store");
    await createDomain(domain, { open: true, click: "yes" });
    const sent = await sendOne(domain);
    expect(sent.accepted.map((e: any) => e.recipient).sort()).toEqual(["ann@example.org", "cy@example.org"]);
    expect(sent.storage.key).toMatch(/^\d{8}-[A-Za-z0-9_-]{22}$/);
    expect(sent.storage.url).toBe(`http://127.0.0.1/v3/domains/${domain}/messages/${sent.storage.key}`);
    for (const event of sent.accepted) expect(event.storage).toEqual(sent.storage);
    for (const job of sent.deliveries) expect(job.facts.storage).toEqual(sent.storage);
    expect(sent.id).toBe(`<${(await loadStoredMessage(testEnv.MESSAGES, domain, sent.storage.key, Date.now()))!.messageId}>`);
  });

  it("shows the message as submitted, without tracking, and its MIME when asked for message/rfc2822", async () => {
    const domain = uniqueDomain("store");
    await createDomain(domain, { open: true, click: "yes" });
    const { storage } = await sendOne(domain);
    const shown = await json(await apiWith(testEnv, `/v3/domains/${domain}/messages/${storage.key}`));
    expect(shown).toMatchObject({
      From: `Shop <shop@${domain}>`,
      To: "Ann <ann@example.org>",
      Subject: "Spring sale",
      "Mime-Version": "1.0",
      "X-Mailgun-Tag": "newsletter",
      sender: `shop@${domain}`,
      recipients: "ann@example.org",
      from: `Shop <shop@${domain}>`,
      subject: "Spring sale",
      "body-plain": "Hi! https://shop.test/sale",
      "body-html": '<p>Hi! <a href="https://shop.test/sale">Sale</a></p>',
      attachments: [{ name: "report.csv", "content-type": "text/csv", size: 14 }],
    });
    expect(shown["Content-Type"]).toMatch(/^multipart\/mixed; boundary=/);
    expect(shown["message-headers"]).toContainEqual(["Reply-To", `help@${domain}`]);
    expect(shown["message-headers"]).toContainEqual(["Cc", "Cy <cy@example.org>"]);
    expect(shown).not.toHaveProperty("body-mime");

    const raw = await json(await apiWith(testEnv, `/v3/domains/${domain}/messages/${storage.key}`, { headers: { accept: "message/rfc2822" } }));
    const parsed = await PostalMime.parse(raw["body-mime"]);
    expect(parsed.subject).toBe("Spring sale");
    expect(parsed.html).toContain('<a href="https://shop.test/sale">');
    expect(parsed.attachments.map((a) => [a.filename, new TextDecoder().decode(a.content as ArrayBuffer)])).toEqual([["report.csv", "col1,col2\n1,2\n"]]);
    expect(JSON.parse(parsed.headers.find((h) => h.key === "x-mailgun-variables")!.value)).toEqual({ campaign: "spring" });
  });

  it("resends the stored message to new recipients through the whole send path", async () => {
    const domain = uniqueDomain("store");
    await createDomain(domain, { open: true, click: "yes" });
    const original = await sendOne(domain);
    const recorded = recordingQueues(testEnv);
    const response = await apiWith(recorded.env, `/v3/domains/${domain}/messages/${original.storage.key}`, {
      method: "POST",
      body: form({ to: "Dee <dee@example.org>, eve@example.org" }),
    });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.message).toBe("Queued. Thank you.");
    expect(body.id).not.toBe(original.id);
    expect(recorded.deliveries.map((d) => d.recipient).sort()).toEqual(["dee@example.org", "eve@example.org"]);
    const copy = await PostalMime.parse(recorded.deliveries[0]!.mime!);
    expect(copy.subject).toBe("Spring sale");
    expect(copy.html).toMatch(/\/c\/[A-Za-z0-9_-]+/); // tracked anew, for the new recipient
    expect(copy.attachments.map((a) => a.filename)).toEqual(["report.csv"]);
    const accepted = recorded.events.map((e) => e.event).filter((e) => e.event === "accepted");
    expect(accepted.map((e) => e.tags)).toEqual([["newsletter"], ["newsletter"]]);
    expect(accepted[0].storage.key).not.toBe(original.storage.key);

    // `to` in the query string works too; without any `to` it is a 400.
    const viaQuery = await apiWith(recorded.env, `/v3/domains/${domain}/messages/${original.storage.key}?to=fay@example.org`, { method: "POST" });
    expect(viaQuery.status).toBe(200);
    const missing = await apiWith(recorded.env, `/v3/domains/${domain}/messages/${original.storage.key}`, { method: "POST", body: form({ to: " " }) });
    expect([missing.status, (await json(missing)).message]).toEqual([400, "to parameter is missing"]);
    const bad = await apiWith(recorded.env, `/v3/domains/${domain}/messages/${original.storage.key}`, { method: "POST", body: form({ to: "not an address" }) });
    expect(bad.status).toBe(400);
    // A line break in a new recipient's display name would start a header line of its own.
    const injected = await apiWith(recorded.env, `/v3/domains/${domain}/messages/${original.storage.key}`, {
      method: "POST",
      body: form({ to: "Dee\r\nX-Injected: 1 <dee@example.org>" }),
    });
    expect([injected.status, (await json(injected)).message]).toEqual([400, "to parameter is not a valid address. please check documentation"]);
  });

  it("answers 404 for a malformed, unknown, foreign or expired key", async () => {
    const domain = uniqueDomain("store");
    const other = uniqueDomain("store");
    await createDomain(domain);
    await createDomain(other);
    const { storage } = await sendOne(domain);
    const request: MessageRequest = {
      from: { address: `a@${domain}`, display: `a@${domain}` },
      to: [{ address: "b@example.org", display: "b@example.org" }],
      cc: [],
      bcc: [],
      subject: "old",
      text: "old",
      attachments: [],
      tags: [],
      userVariables: {},
      recipientVariables: null,
      customHeaders: [],
      tracking: {},
      testMode: false,
      deliverAt: 0,
      contentBytes: 3,
    };
    const expired = await storeMessage(testEnv.MESSAGES, domain, "old@x", request, Date.now() - (STORED_MESSAGE_DAYS * DAY + 60_000));
    for (const [path, why] of [
      [`/v3/domains/${domain}/messages/not-a-key`, "malformed"],
      [`/v3/domains/${domain}/messages/20261126-AAAAAAAAAAAAAAAAAAAAAA`, "unknown"],
      [`/v3/domains/${other}/messages/${storage.key}`, "another domain's"],
      [`/v3/domains/${domain}/messages/${expired}`, "expired"],
    ] as const) {
      const response = await apiWith(testEnv, path);
      expect(response.status, why).toBe(404);
      expect(await json(response), why).toEqual({ message: "Message not found" });
      expect((await apiWith(testEnv, path, { method: "POST", body: form({ to: "x@example.org" }) })).status, why).toBe(404);
    }
  });

  it("links a sent message's events in the panel's Logs to the message, shown as text and never rendered", async () => {
    const domain = uniqueDomain("store");
    await createDomain(domain);
    const body = form({ from: `Shop <shop@${domain}>`, to: "gil@example.org", subject: "Panel <view>", text: "Plain words", "o:testmode": "yes" });
    body.append("html", '<p onclick="x()">Hi <script>alert(1)</script></p>');
    expect((await api(`/v3/${domain}/messages`, { method: "POST", body })).status).toBe(200);
    const accepted = await waitFor(async () => (await listEvents(domain, "event=accepted")).items[0]);
    const cookie = `tidings_session=${await newSessionCookieValue(API_KEY, Date.now())}`;
    const panel = (path: string) => SELF.fetch(`http://127.0.0.1${path}`, { headers: { cookie }, redirect: "manual" });

    const logs = await (await panel(`/app/logs?domain=${domain}`)).text();
    const link = `/app/logs/message?domain=${domain}&amp;key=${accepted.storage.key}`;
    expect(logs).toContain(`href="${link}"`);

    const page = await panel(link.replace("&amp;", "&"));
    expect(page.status).toBe(200);
    const shown = await page.text();
    expect(shown).toContain("<title>Panel &lt;view&gt; · Tidings</title>");
    expect(shown).toContain('<pre id="message-text" class="wrap">Plain words</pre>');
    expect(shown).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(shown).not.toContain("<script>alert(1)");
    expect(shown).not.toContain('<p onclick="x()">');

    const gone = await panel(`/app/logs/message?domain=${domain}&key=20200101-AAAAAAAAAAAAAAAAAAAAAA`);
    expect(gone.status).toBe(404);
    expect(await gone.text()).toContain("no longer stored");
  });

  it("purges whole days past retention, a bounded number of pages per run, and keeps newer ones", async () => {
    const bucket = testEnv.MESSAGES;
    const request = {
      from: { address: "a@p.example", display: "a@p.example" },
      to: [],
      cc: [],
      bcc: [],
      subject: "s",
      text: "t",
      attachments: [],
      tags: [],
      userVariables: {},
      recipientVariables: null,
      customHeaders: [],
      tracking: {},
      testMode: false,
      deliverAt: 0,
      contentBytes: 1,
    } satisfies MessageRequest;
    const now = Date.UTC(2031, 0, 10, 12);
    const old = await Promise.all(Array.from({ length: 3 }, (_, i) => storeMessage(bucket, "p.example", `old${i}@x`, request, now - 5 * DAY)));
    const edge = await storeMessage(bucket, "p.example", "edge@x", request, Date.UTC(2031, 0, 7, 0, 1)); // its day is kept while within 3 days
    const fresh = await storeMessage(bucket, "p.example", "fresh@x", request, now - DAY);
    const exists = async (key: string) => (await bucket.list({ prefix: `stored/${key.slice(0, 8)}/p.example/${key}` })).objects.length === 1;

    expect(await purgeStoredMessages(bucket, now, 0)).toEqual({ deleted: 0, unfinished: true });
    const result = await purgeStoredMessages(bucket, now, 20);
    expect(result.unfinished).toBe(false);
    expect(result.deleted).toBeGreaterThanOrEqual(3);
    for (const key of old) expect(await exists(key)).toBe(false);
    expect(await exists(edge)).toBe(true); // 2031-01-07 is kept until the 11th begins
    expect(await exists(fresh)).toBe(true);
    expect(await purgeStoredMessages(bucket, Date.UTC(2031, 0, 11, 0, 0), 20)).toMatchObject({ unfinished: false });
    expect(await exists(edge)).toBe(false);
    expect(await exists(fresh)).toBe(true);
  });
});
