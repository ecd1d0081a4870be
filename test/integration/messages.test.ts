// Messages API through the whole Worker: parsing, validation, per-recipient MIME with tracking,
// accepted and suppressed events, test mode.
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import PostalMime, { decodeWords } from "postal-mime";
import { describe, expect, it } from "vitest";
import type { DeliveryJob } from "../../src/domain/delivery-job";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { api, apiWith, copiesOf, createDomain, everyPartition, listEvents, recordingQueues, uniqueDomain, waitFor } from "../helpers";

const testEnv = env as unknown as Env;

function messageForm(fields: Array<[string, string | File]>): FormData {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  return form;
}

/** Sends through the Worker with queues that record instead of delivering. */
async function sendRecorded(domain: string, form: FormData) {
  const recorded = recordingQueues(testEnv);
  const response = await apiWith(recorded.env, `/v3/${domain}/messages`, { method: "POST", body: form });
  return { response, deliveries: recorded.deliveries, events: recorded.events.map((e) => e.event) };
}

describe("POST /v3/{domain}/messages", () => {
  it("accepts a multipart message, one tracked copy per recipient, as Mailgun answers", async () => {
    const domain = uniqueDomain("msg");
    await createDomain(domain, { open: true, click: "yes", unsubscribe: true });
    const { response, deliveries, events } = await sendRecorded(
      domain,
      messageForm([
        ["from", "Shop <shop@" + domain + ">"],
        ["to", "Ann <ann@example.org>, bob@example.org"],
        ["to", "carl@example.org"],
        ["subject", "Hello %recipient.first%"],
        ["html", '<html><body><p>Hi %recipient.first%, <a href="https://shop.test/x?a=1&amp;b=2">shop</a></p></body></html>'],
        ["text", "Hi %recipient.first%: https://shop.test/x"],
        ["o:tag", "Spring"],
        ["o:tag", "newsletter"],
        ["v:campaign", "c-%recipient.id%"],
        ["h:Reply-To", "help@" + domain],
        ["recipient-variables", JSON.stringify({ "ann@example.org": { first: "Ann", id: 1 }, "bob@example.org": { first: "Bob", id: 2 } })],
        ["attachment", new File(["col1,col2\n1,2\n"], "report.csv", { type: "text/csv" })],
      ]),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; message: string };
    expect(body.message).toBe("Queued. Thank you.");
    expect(body.id).toMatch(new RegExp(`^<.+@${domain.replace(/\./g, "\\.")}>$`));
    const messageId = body.id.slice(1, -1);

    expect(deliveries.map((d) => d.recipient)).toEqual(["ann@example.org", "bob@example.org", "carl@example.org"]);
    expect(events.filter((e) => e.event === "accepted").map((e) => e.recipient)).toEqual(["ann@example.org", "bob@example.org", "carl@example.org"]);
    const accepted = events.find((e) => e.recipient === "bob@example.org");
    expect(accepted).toMatchObject({
      event: "accepted",
      method: "http",
      flags: { "is-authenticated": true, "is-test-mode": false },
      tags: ["Spring", "newsletter"],
      "user-variables": { campaign: "c-2" },
      message: { headers: { "message-id": messageId, subject: "Hello Bob", to: "bob@example.org" }, recipients: ["bob@example.org"] },
    });
    expect(accepted.message.attachments).toEqual([{ filename: "report.csv", "content-type": "text/csv", size: 14 }]);
    expect(accepted.message.size).toBeGreaterThan(500);

    const bob = deliveries[1]!;
    expect(bob.from).toMatch(new RegExp(`^bounce\\+[A-Za-z0-9_-]+@${domain.replace(/\./g, "\\.")}$`));
    const email = await PostalMime.parse(bob.mime!);
    expect(email.subject).toBe("Hello Bob");
    expect(email.messageId).toBe(`<${messageId}>`);
    const header = (name: string) => email.headers.find((h) => h.key === name)?.value;
    expect(header("list-unsubscribe")).toMatch(/^<https?:\/\/[^>]+\/u\/[A-Za-z0-9_-]+>$/);
    expect(header("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
    expect(JSON.parse(header("x-mailgun-variables")!)).toEqual({ campaign: "c-2" });
    expect(header("reply-to")).toBe(`help@${domain}`);
    expect(header("to")).toBe("bob@example.org");
    expect(email.html).toContain("Hi Bob,");
    expect(email.html).toMatch(/<a href="https?:\/\/[^"]+\/c\/[A-Za-z0-9_-]+">shop<\/a>/);
    expect(email.html).toMatch(/<img [^>]*src="https?:\/\/[^"]+\/o\/[A-Za-z0-9_-]+"/);
    expect(email.text).toMatch(/^Hi Bob: https?:\/\/\S+\/c\/[A-Za-z0-9_-]+/);
    expect(email.attachments.map((a) => [a.filename, a.mimeType])).toEqual([["report.csv", "text/csv"]]);
    // Each recipient has its own links.
    const ann = await PostalMime.parse(deliveries[0]!.mime!);
    expect(ann.subject).toBe("Hello Ann");
    expect(ann.html).not.toEqual(email.html);
    // Carl has no recipient variables: placeholders become empty (the parser trims the header).
    expect((await PostalMime.parse(deliveries[2]!.mime!)).subject).toBe("Hello");
    expect(events.find((e) => e.event === "accepted" && e.recipient === "carl@example.org").message.headers.subject).toBe("Hello ");
  });

  it("also takes urlencoded bodies and comma-joined recipients", async () => {
    const domain = uniqueDomain("urlenc");
    await createDomain(domain);
    const response = await api(`/v3/${domain}/messages`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ from: `me@${domain}`, to: "a@example.org,b@example.org", subject: "x", text: "plain", "o:testmode": "yes" }),
    });
    expect(response.status).toBe(200);
    const events = await waitFor(async () => {
      const page = await listEvents(domain, "limit=300");
      return page.items.length >= 4 ? page.items : undefined;
    });
    expect(events.filter((e) => e.event === "accepted")).toHaveLength(2);
    // Test mode: accepted and delivered nowhere, flagged.
    const delivered = events.filter((e) => e.event === "delivered");
    expect(delivered).toHaveLength(2);
    expect(delivered.every((e) => e.flags["is-test-mode"] === true)).toBe(true);
  });

  it("fails suppressed recipients with Mailgun's codes and never delivers them", async () => {
    const domain = uniqueDomain("supp");
    await createDomain(domain);
    const state = testEnv.DOMAIN_STATE.get(testEnv.DOMAIN_STATE.idFromName(domain));
    await state.addBounces([{ address: "bounced@example.org", code: 550, error: "gone", createdAt: Date.now() }]);
    await state.addUnsubscribes([
      { address: "left@example.org", tags: ["*"], createdAt: Date.now() },
      { address: "picky@example.org", tags: ["promo"], createdAt: Date.now() },
    ]);
    await state.addComplaints([{ address: "angry@example.org", createdAt: Date.now() }]);
    const { response, deliveries, events } = await sendRecorded(
      domain,
      messageForm([
        ["from", `me@${domain}`],
        ["to", "bounced@example.org, left@example.org, picky@example.org, angry@example.org, fine@example.org"],
        ["subject", "s"],
        ["text", "t"],
        ["o:tag", "promo"],
      ]),
    );
    expect(response.status).toBe(200);
    expect(deliveries.map((d) => d.recipient)).toEqual(["fine@example.org"]);
    const failed = events
      .filter((e) => e.event === "failed")
      .map((e) => [e.recipient, e.severity, e.reason, e["delivery-status"].code, e["delivery-status"].description]);
    expect(failed).toEqual([
      ["bounced@example.org", "permanent", "suppress-bounce", 605, "Not delivering to previously bounced address"],
      ["left@example.org", "permanent", "suppress-unsubscribe", 606, "Not delivering to unsubscribed address"],
      ["picky@example.org", "permanent", "suppress-unsubscribe", 606, "Not delivering to unsubscribed address"],
      ["angry@example.org", "permanent", "suppress-complaint", 607, "Not delivering to a user who marked your messages as spam"],
    ]);
    expect(events.filter((e) => e.event === "accepted")).toHaveLength(5);
  });

  it("answers bad input with Mailgun's 400 messages and records nothing", async () => {
    const domain = uniqueDomain("bad");
    await createDomain(domain);
    const base: Array<[string, string]> = [
      ["from", `me@${domain}`],
      ["to", "a@example.org"],
      ["text", "t"],
    ];
    const cases: Array<[Array<[string, string]>, string]> = [
      [base.filter(([n]) => n !== "from"), "from parameter is missing"],
      [base.filter(([n]) => n !== "to"), "to parameter is missing"],
      [base.filter(([n]) => n !== "text"), "Need at least one of 'text' or 'html' parameters specified"],
      [[...base, ["recipient-variables", "{not json"]], "'recipient-variables' parameter is not a valid JSON"],
      [[...base, ["o:deliverytime", "next tuesday"]], "next tuesday is not an RFC-2822 compliant date"],
      [[...base.filter(([n]) => n !== "to"), ["to", "not an address"]], "to parameter is not a valid address. please check documentation"],
      [
        [...base.filter(([n]) => n !== "to"), ["to", Array.from({ length: 1001 }, (_, i) => `r${i}@example.org`).join(",")]],
        "Too many recipients, max is 1000",
      ],
      [[...base, ["o:tracking", "sometimes"]], "o:tracking must be yes, no, true or false or htmlonly"],
    ];
    for (const [fields, message] of cases) {
      const { response, deliveries, events } = await sendRecorded(domain, messageForm(fields));
      expect(response.status, message).toBe(400);
      expect(await response.json()).toEqual({ message });
      expect(deliveries).toEqual([]);
      expect(events).toEqual([]);
    }
    const unknown = await sendRecorded(uniqueDomain(), messageForm(base));
    expect(unknown.response.status).toBe(404);
  });

  it("takes a whole MIME message at /messages.mime, as a file or a plain field", async () => {
    const domain = uniqueDomain("mime");
    await createDomain(domain, { click: "yes" });
    const raw = [
      `From: Me <me@${domain}>`,
      "To: dee@example.org",
      "Subject: Raw one",
      "X-Campaign: spring",
      "MIME-Version: 1.0",
      'Content-Type: text/html; charset="utf-8"',
      "",
      '<p>Go <a href="https://example.org/go">there</a></p>',
      "",
    ].join("\r\n");
    for (const message of [raw, new File([raw], "message.mime", { type: "message/rfc822" })]) {
      const jobs: DeliveryJob[] = [];
      const recordingEnv: Env = {
        ...testEnv,
        DELIVERY: { sendBatch: async (bs: Array<{ body: DeliveryJob }>) => void jobs.push(...bs.map((m) => m.body)) } as unknown as Env["DELIVERY"],
        ...everyPartition("events", { sendBatch: async () => {} }),
      };
      const form = messageForm([
        ["to", "dee@example.org"],
        ["message", message],
        ["o:tag", "raw"],
      ]);
      const ctx = createExecutionContext();
      const response = await worker.fetch(
        new Request(`http://127.0.0.1/v3/${domain}/messages.mime`, {
          method: "POST",
          body: form,
          headers: { authorization: `Basic ${btoa("api:test-api-key")}` },
        }) as Request<unknown, IncomingRequestCfProperties>,
        recordingEnv,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(response.status).toBe(200);
      const email = await PostalMime.parse((await copiesOf(testEnv, jobs))[0]!.mime);
      expect(email.subject).toBe("Raw one");
      expect(email.headers.find((h) => h.key === "x-campaign")?.value).toBe("spring");
      expect(email.html).toMatch(/\/c\/[A-Za-z0-9_-]+">there<\/a>/);
    }
    // Encoded-words of the original are read back to text and encoded once on the copy, never twice.
    const encoded = [
      `From: =?UTF-8?B?Wm/Dqw==?= <me@${domain}>`,
      "To: dee@example.org",
      'Reply-To: "Doe, \\"J\\" Jane" <jane@example.org>, =?UTF-8?Q?Caf=C3=A9?= <cafe@example.org>',
      "X-Note: =?UTF-8?Q?caf=C3=A9_au_lait?=",
      "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=",
      "Content-Type: text/plain",
      "",
      "body",
      "",
    ].join("\r\n");
    const recorded = recordingQueues(testEnv);
    const sent = await apiWith(recorded.env, `/v3/${domain}/messages.mime`, {
      method: "POST",
      body: messageForm([
        ["to", "dee@example.org"],
        ["message", encoded],
      ]),
    });
    expect(sent.status).toBe(200);
    const copy = await PostalMime.parse(recorded.deliveries[0]!.mime!);
    expect(copy.from).toMatchObject({ name: "Zoë", address: `me@${domain}` });
    expect(copy.replyTo).toEqual([
      { name: 'Doe, "J" Jane', address: "jane@example.org" },
      { name: "Café", address: "cafe@example.org" },
    ]);
    expect(copy.subject).toBe("Grüße");
    expect(decodeWords(copy.headers.find((h) => h.key === "x-note")!.value)).toBe("café au lait");

    const missing = await api(`/v3/${domain}/messages.mime`, { method: "POST", body: messageForm([["to", "dee@example.org"]]) });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ message: "message parameter is missing" });
  });
});

describe("header injection and line lengths (issue 11, item 11)", () => {
  /** Objects the Messages API stored for a domain (stored/<day>/<domain>/<key>), today and yesterday (UTC). */
  async function storedObjects(domain: string): Promise<string[]> {
    const days = [Date.now(), Date.now() - 86_400_000].map((ms) => new Date(ms).toISOString().slice(0, 10).replace(/-/g, ""));
    const lists = await Promise.all(days.map((day) => testEnv.MESSAGES.list({ prefix: `stored/${day}/${domain}/` })));
    return lists.flatMap((l) => l.objects.map((o) => o.key));
  }

  it("refuses CR, LF and NUL in display names, subject, h: values and the recipient variables they use, storing nothing", async () => {
    const domain = uniqueDomain("inject");
    await createDomain(domain);
    const base: Array<[string, string]> = [
      ["from", `Me <me@${domain}>`],
      ["to", "Ann <ann@example.org>"],
      ["subject", "Hello"],
      ["text", "t"],
    ];
    const replace = (name: string, value: string) => [...base.filter(([n]) => n !== name), [name, value]] as Array<[string, string]>;
    const badAddress = (field: string) => `${field} parameter is not a valid address. please check documentation`;
    const cases: Array<[Array<[string, string]>, string]> = [
      [replace("from", `Evil\r\nX-Injected-From: 1 <me@${domain}>`), badAddress("from")],
      [replace("to", "Ann\nX-Injected-To: 1 <ann@example.org>"), badAddress("to")],
      [[...base, ["cc", "Cy\r<cy@example.org>"]], badAddress("cc")],
      [[...base, ["bcc", "B\u0000cc <bcc@example.org>"]], badAddress("bcc")],
      [replace("subject", "Hi\r\nX-Injected-Subject: 1"), "subject may not contain CR, LF or NUL characters"],
      [[...base, ["h:Reply-To", `help@${domain}\r\nX-Injected-Reply-To: 1`]], "h:Reply-To may not contain CR, LF or NUL characters"],
      [[...base, ["h:X-Custom", "a\rb"]], "h:X-Custom may not contain CR, LF or NUL characters"],
      [[...base, ["h:X-Custom", "a\u0000b"]], "h:X-Custom may not contain CR, LF or NUL characters"],
      [[...base, ["h:X Custom", "a"]], "'X Custom' is not a valid header name"],
      [[...base, ["h:X-Émoji", "a"]], "'X-Émoji' is not a valid header name"],
      [[...base, [`h:X-${"n".repeat(80)}`, "a"]], `'X-${"n".repeat(80)}' is not a valid header name`],
      [
        [
          ...replace("subject", "Hi %recipient.name%"),
          ["recipient-variables", JSON.stringify({ "ann@example.org": { name: "Ann\r\nX-Injected-Variable: 1" } })],
        ],
        "recipient-variables of ann@example.org: name may not contain CR, LF or NUL characters",
      ],
    ];
    for (const [fields, message] of cases) {
      const { response, deliveries, events } = await sendRecorded(domain, messageForm(fields));
      expect(response.status, message).toBe(400);
      expect(await response.json(), message).toEqual({ message });
      expect(deliveries).toEqual([]);
      expect(events).toEqual([]);
    }
    expect(await storedObjects(domain)).toEqual([]);

    // A whole MIME message whose encoded subject decodes to a line break, and a resend to a name with one.
    const raw = [
      `From: me@${domain}`,
      "To: dee@example.org",
      "Subject: =?UTF-8?Q?a=0D=0AX-Injected-Mime:_1?=",
      "Content-Type: text/plain",
      "",
      "body",
      "",
    ].join("\r\n");
    const mime = await api(`/v3/${domain}/messages.mime`, {
      method: "POST",
      body: messageForm([
        ["to", "dee@example.org"],
        ["message", raw],
      ]),
    });
    expect([mime.status, await mime.json()]).toEqual([400, { message: "subject may not contain CR, LF or NUL characters" }]);
    expect(await storedObjects(domain)).toEqual([]);
  });

  it("folds a long subject and long X-Mailgun-Variables to 78-character lines that read back exactly", async () => {
    const domain = uniqueDomain("fold");
    await createDomain(domain);
    const words = Array.from({ length: 200 }, (_, i) => ["spring", "Grüße", "sale", "☃", "news"][i % 5]! + i);
    const subject = words.join(" ").slice(0, 1179);
    const variables = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`var${i}`, `value number ${i}`]));
    expect(JSON.stringify(variables).length).toBeGreaterThan(1500);
    const { response, deliveries } = await sendRecorded(
      domain,
      messageForm([
        ["from", `Zoë Ünïcode <me@${domain}>`],
        ["to", "Ann <ann@example.org>"],
        ["subject", subject],
        ["text", "t"],
        ["h:X-Mailgun-Variables", JSON.stringify(variables)],
      ]),
    );
    expect(response.status).toBe(200);
    const mime = deliveries[0]!.mime!;
    // Each field with its continuation lines. Only List-Unsubscribe holds a token (its URL) longer than 78.
    const fields = mime.slice(0, mime.indexOf("\r\n\r\n")).split(/\r\n(?![ \t])/);
    for (const name of ["Subject", "X-Mailgun-Variables", "From"]) {
      const field = fields.find((f) => f.startsWith(`${name}:`))!;
      expect(field.split("\r\n").length, name).toBeGreaterThan(name === "From" ? 0 : 10);
      for (const line of field.split("\r\n")) expect(line.length, line).toBeLessThanOrEqual(78);
    }
    for (const line of fields.flatMap((f) => f.split("\r\n"))) expect(line.length, line).toBeLessThanOrEqual(998);
    const email = await PostalMime.parse(mime);
    expect(email.subject).toBe(subject.trim());
    expect(email.from).toMatchObject({ name: "Zoë Ünïcode", address: `me@${domain}` });
    expect(JSON.parse(email.headers.find((h) => h.key === "x-mailgun-variables")!.value)).toEqual(variables);
  });
});

describe("accepted events through the real queue", () => {
  it("land in the Events API with Mailgun's fields", async () => {
    const domain = uniqueDomain("acc");
    await createDomain(domain);
    const response = await SELF.fetch(`http://127.0.0.1/v3/${domain}/messages`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa("api:test-api-key")}` },
      body: messageForm([
        ["from", `me@${domain}`],
        ["to", "zed@example.org"],
        ["subject", "Hi"],
        ["text", "t"],
        ["o:tag", "t1"],
        ["o:testmode", "true"],
      ]),
    });
    expect(response.status).toBe(200);
    const accepted = await waitFor(async () => (await listEvents(domain, "event=accepted")).items[0]);
    expect(accepted).toMatchObject({
      event: "accepted",
      "log-level": "info",
      recipient: "zed@example.org",
      "recipient-domain": "example.org",
      tags: ["t1"],
      flags: { "is-test-mode": true },
    });
  });
});
