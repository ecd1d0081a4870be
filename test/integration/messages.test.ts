// Messages API through the whole Worker: parsing, validation, per-recipient MIME with tracking,
// accepted and suppressed events, test mode.
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import PostalMime from "postal-mime";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { DeliveryJob } from "../../src/domain/delivery-job";
import type { Env } from "../../src/env";
import { api, apiWith, copiesOf, createDomain, listEvents, recordingQueues, uniqueDomain, waitFor } from "../helpers";

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

  it("fails suppressed recipients with Mailgun's codes and never queues them", async () => {
    const domain = uniqueDomain("supp");
    await createDomain(domain);
    const state = testEnv.DOMAIN_STATE.get(testEnv.DOMAIN_STATE.idFromName(domain));
    await state.addBounces([{ address: "bounced@example.org", code: 550, error: "gone", createdAt: Date.now() }]);
    await state.addUnsubscribes([{ address: "left@example.org", tags: ["*"], createdAt: Date.now() }, { address: "picky@example.org", tags: ["promo"], createdAt: Date.now() }]);
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
    const failed = events.filter((e) => e.event === "failed").map((e) => [e.recipient, e.severity, e.reason, e["delivery-status"].code, e["delivery-status"].description]);
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
    const base: Array<[string, string]> = [["from", `me@${domain}`], ["to", "a@example.org"], ["text", "t"]];
    const cases: Array<[Array<[string, string]>, string]> = [
      [base.filter(([n]) => n !== "from"), "from parameter is missing"],
      [base.filter(([n]) => n !== "to"), "to parameter is missing"],
      [base.filter(([n]) => n !== "text"), "Need at least one of 'text' or 'html' parameters specified"],
      [[...base, ["recipient-variables", "{not json"]], "'recipient-variables' parameter is not a valid JSON"],
      [[...base, ["o:deliverytime", "next tuesday"]], "next tuesday is not an RFC-2822 compliant date"],
      [[...base.filter(([n]) => n !== "to"), ["to", "not an address"]], "to parameter is not a valid address. please check documentation"],
      [[...base.filter(([n]) => n !== "to"), ["to", Array.from({ length: 1001 }, (_, i) => `r${i}@example.org`).join(",")]], "Too many recipients, max is 1000"],
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
        EVENTS: { sendBatch: async () => {} } as unknown as Env["EVENTS"],
      };
      const form = messageForm([["to", "dee@example.org"], ["message", message], ["o:tag", "raw"]]);
      const ctx = createExecutionContext();
      const response = await worker.fetch(
        new Request(`http://127.0.0.1/v3/${domain}/messages.mime`, { method: "POST", body: form, headers: { authorization: `Basic ${btoa("api:test-api-key")}` } }) as Request<unknown, IncomingRequestCfProperties>,
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
    const missing = await api(`/v3/${domain}/messages.mime`, { method: "POST", body: messageForm([["to", "dee@example.org"]]) });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ message: "message parameter is missing" });
  });
});

describe("accepted events through the real queue", () => {
  it("land in the Events API with Mailgun's fields", async () => {
    const domain = uniqueDomain("acc");
    await createDomain(domain);
    const response = await SELF.fetch(`http://127.0.0.1/v3/${domain}/messages`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa("api:test-api-key")}` },
      body: messageForm([["from", `me@${domain}`], ["to", "zed@example.org"], ["subject", "Hi"], ["text", "t"], ["o:tag", "t1"], ["o:testmode", "true"]]),
    });
    expect(response.status).toBe(200);
    const accepted = await waitFor(async () => (await listEvents(domain, "event=accepted")).items[0]);
    expect(accepted).toMatchObject({ event: "accepted", "log-level": "info", recipient: "zed@example.org", "recipient-domain": "example.org", tags: ["t1"], flags: { "is-test-mode": true } });
  });
});
