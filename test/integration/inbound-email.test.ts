// The email() handler for mail sent to VERP return paths: DSNs (RFC 3464) and ARF complaints
// (RFC 5965) written by hand in the shapes real MTAs and mailbox providers send, fed to
// handleInboundEmail with a recording events queue; one test per kind through the real queue,
// D1 and the domain's Durable Object; and the pure parsers of src/inbound/reports.ts.
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { saveMessageMetadata } from "../../src/db/messages";
import { saveReturnPaths } from "../../src/db/return-paths";
import { encodeBase64Url } from "../../src/domain/base64url";
import { partitionBinding, partitionOf } from "../../src/domain/queue-partitions";
import { valueOrThrow } from "../../src/domain/refusal";
import { domainKey } from "../../src/domain/token";
import { returnPathsOf, type VerpTarget, verpAddress } from "../../src/domain/verp";
import type { Env } from "../../src/env";
import { handleInboundEmail, MAX_INBOUND_BYTES } from "../../src/inbound/handle-email";
import {
  bounceStatusOf,
  classifyRecipient,
  headerParam,
  inboundEventId,
  isComplaint,
  isVerpAddress,
  parseDeliveryStatus,
  parseFeedbackReport,
  parseFieldGroups,
  permanentFailureFor,
  reportKindOf,
  smtpCodeOf,
  verpCandidates,
} from "../../src/inbound/reports";
import { apiWith, createDomain, partitionCount, recordingQueues, storedEvents, uniqueDomain, waitFor } from "../helpers";

const testEnv = env as unknown as Env;
const encoder = new TextEncoder();

/** An object shaped like the ForwardableEmailMessage the runtime hands to email(). */
function inbound(to: string, raw: string | Uint8Array | ReadableStream<Uint8Array>, options: { from?: string; rawSize?: number } = {}) {
  const bytes = typeof raw === "string" ? encoder.encode(raw) : raw;
  const stream = bytes instanceof ReadableStream ? bytes : new Blob([bytes]).stream();
  const message = {
    from: options.from ?? "MAILER-DAEMON@mx.example.net",
    to,
    headers: new Headers(),
    raw: stream,
    rawSize: options.rawSize ?? (bytes instanceof Uint8Array ? bytes.byteLength : 0),
    setReject: vi.fn(),
    forward: vi.fn(async () => ({ messageId: "" })),
    reply: vi.fn(async () => ({ messageId: "" })),
  };
  return message;
}

/** Runs the handler with an events queue that records what is sent. */
async function deliver(message: ReturnType<typeof inbound>): Promise<Array<{ type: string; domain: string; event: Record<string, any> }>> {
  const sent: Array<{ type: string; domain: string; event: Record<string, any> }> = [];
  // One recorder per partition of the events queue: each message must be on its domain's.
  const partitions = Array.from({ length: partitionCount("events") }, (_, i) => [
    partitionBinding("events", i),
    { send: async (body: any) => void (expect(partitionOf(body.domain, partitionCount("events"))).toBe(i), sent.push(body)) },
  ]);
  const recording = { ...testEnv, ...Object.fromEntries(partitions) } as unknown as Env;
  await handleInboundEmail(message as unknown as ForwardableEmailMessage, recording, createExecutionContext());
  expect(message.forward).not.toHaveBeenCalled();
  expect(message.reply).not.toHaveBeenCalled();
  return sent;
}

interface Delivery extends VerpTarget {
  verp: string;
}

/** Stores the return path of a delivery, as the Messages API does when it accepts the message. */
async function storeReturnPath(target: VerpTarget): Promise<void> {
  await saveReturnPaths(testEnv, target.domain, await returnPathsOf(testEnv.TRACKING_SECRET, target.domain, target.messageId, [target.recipient]), Date.now());
}

/** A domain that exists, a delivery of one of its messages, its return path and the metadata remembered at send time. */
async function sentMessage(recipient = "nobody@example.net", prefix = "in"): Promise<Delivery> {
  const domain = uniqueDomain(prefix);
  await createDomain(domain);
  const target = { domain, messageId: `${prefix}-${crypto.randomUUID()}@${domain}`, recipient };
  await storeReturnPath(target);
  await saveMessageMetadata(testEnv, target, {
    tags: ["newsletter", "january"],
    userVariables: { customer: "c-42" },
    headers: { to: recipient, from: `News <news@${domain}>`, subject: "January news" },
    preparedAt: Date.now() - 60_000,
  });
  return { ...target, verp: await verpAddress(target, testEnv.TRACKING_SECRET) };
}

/** Changes one character of the id: same shape, wrong tag. */
function forge(verp: string): string {
  const i = "bounce+".length + 4;
  const swapped = verp[i] === "a" ? "b" : "a";
  return `${verp.slice(0, i)}${swapped}${verp.slice(i + 1)}`;
}

/** The envelope sender as it was made before return paths had ids (still recognised for mail sent then). */
async function legacyVerpAddress(t: VerpTarget): Promise<string> {
  const payload = encoder.encode(`${t.messageId}\u0000${t.recipient}`);
  const key = await domainKey(testEnv.TRACKING_SECRET, `verp:${t.domain}`);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, payload)).subarray(0, 10);
  const bytes = new Uint8Array(payload.length + 10);
  bytes.set(payload);
  bytes.set(mac, payload.length);
  return `bounce+${encodeBase64Url(bytes)}@${t.domain}`;
}

describe("delivery status notifications", () => {
  it("turns a Postfix hard bounce into a permanent delayed-bounce failed event", async () => {
    const d = await sentMessage();
    const message = inbound(d.verp, samples.postfixHardBounce(d));
    const before = Date.now() / 1000;
    const sent = await deliver(message);
    const after = Date.now() / 1000;
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: "event", v: 1, domain: d.domain });
    const event = sent[0]!.event;
    expect(event).toMatchObject({
      event: "failed",
      severity: "permanent",
      reason: "generic",
      "log-level": "error",
      recipient: d.recipient,
      "recipient-domain": "example.net",
      flags: { "is-delayed-bounce": true },
      "delivery-status": {
        code: 550,
        "bounce-code": "5.1.1",
        "attempt-no": 1,
        description: "",
        message: "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in local recipient table",
      },
      message: { headers: { "message-id": d.messageId, subject: "January news", from: `News <news@${d.domain}>` } },
      tags: ["newsletter", "january"],
      "user-variables": { customer: "c-42" },
    });
    expect(event.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // Stamped when the report arrived: within the call, whatever the machine's speed.
    expect(event.timestamp).toBeGreaterThanOrEqual(Math.floor(before));
    expect(event.timestamp).toBeLessThanOrEqual(after);
    expect(message.setReject).not.toHaveBeenCalled();
  });

  it("gives a DSN that arrives twice the same event id, so the second stores nothing", async () => {
    const d = await sentMessage();
    const first = await deliver(inbound(d.verp, samples.postfixHardBounce(d)));
    const second = await deliver(inbound(d.verp, samples.postfixHardBounce(d)));
    expect(first[0]!.event.id).toBe(second[0]!.event.id);
  });

  it("reports the failed recipient of a two-recipient DSN and ignores the delayed one", async () => {
    const d = await sentMessage("team@example.org");
    const sent = await deliver(inbound(d.verp, samples.sendmailMixed(d)));
    expect(sent).toHaveLength(1);
    // The delivery named by the VERP address, not the expanded address the DSN names.
    expect(sent[0]!.event).toMatchObject({
      recipient: "team@example.org",
      severity: "permanent",
      "delivery-status": { code: 552, "bounce-code": "5.2.2", message: "552 5.2.2 Mailbox full: alice@example.org is over quota" },
    });
  });

  it("drops a DSN that only reports a delay (the delivery consumer retries)", async () => {
    const d = await sentMessage();
    const message = inbound(d.verp, samples.delayOnly(d));
    expect(await deliver(message)).toEqual([]);
    expect(message.setReject).not.toHaveBeenCalled();
  });

  it("drops a DSN whose VERP tag is forged, even when the returned headers carry it too", async () => {
    const d = await sentMessage();
    const forged = forge(d.verp);
    expect(forged).not.toBe(d.verp);
    const message = inbound(forged, samples.postfixHardBounce({ ...d, verp: forged }));
    expect(await deliver(message)).toEqual([]);
    expect(message.setReject).not.toHaveBeenCalled();
  });

  it("drops a DSN whose VERP address is signed for another domain", async () => {
    const d = await sentMessage();
    const moved = d.verp.replace(`@${d.domain}`, "@other.example.com");
    expect(await deliver(inbound(moved, samples.postfixHardBounce({ ...d, verp: moved })))).toEqual([]);
  });

  it("drops a correctly signed DSN for a domain that does not exist (any more)", async () => {
    const target = { domain: uniqueDomain("gone"), messageId: "m1@gone", recipient: "nobody@example.net" };
    await storeReturnPath(target);
    const verp = await verpAddress(target, testEnv.TRACKING_SECRET);
    expect(await deliver(inbound(verp, samples.postfixHardBounce({ ...target, verp })))).toEqual([]);
  });

  it("drops a correctly signed DSN whose return path was never stored or has been purged", async () => {
    const domain = uniqueDomain("nopath");
    await createDomain(domain);
    const target = { domain, messageId: "unknown@x", recipient: "nobody@example.net" };
    const verp = await verpAddress(target, testEnv.TRACKING_SECRET);
    const message = inbound(verp, samples.postfixHardBounce({ ...target, verp }));
    expect(await deliver(message)).toEqual([]);
    expect(message.setReject).not.toHaveBeenCalled();
  });

  it("still attributes a DSN sent to the long self-contained return path of mail sent before ids", async () => {
    const d = await sentMessage("old@example.net", "legacy");
    const verp = await legacyVerpAddress(d);
    const sent = await deliver(inbound(verp, samples.postfixHardBounce({ ...d, verp })));
    expect(sent.map((s) => [s.domain, s.event.event, s.event.recipient, s.event.message.headers["message-id"]])).toEqual([
      [d.domain, "failed", "old@example.net", d.messageId],
    ]);
    const forged = forge(verp);
    expect(forged).not.toBe(verp);
    expect(await deliver(inbound(forged, samples.postfixHardBounce({ ...d, verp: forged })))).toEqual([]);
  });

  it("reads a return path whose local part a remote MTA upper-cased", async () => {
    const d = await sentMessage();
    const upper = d.verp.toUpperCase();
    const sent = await deliver(inbound(upper, samples.postfixHardBounce({ ...d, verp: upper })));
    expect(sent.map((s) => s.event.recipient)).toEqual([d.recipient]);
  });

  it("finds the delivery in the returned message's Return-Path when the DSN went elsewhere", async () => {
    const d = await sentMessage("gone@example.com");
    const message = inbound(`postmaster@${d.domain}`, samples.eximWithReturnedMessage(d));
    const sent = await deliver(message);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.domain).toBe(d.domain);
    expect(sent[0]!.event).toMatchObject({
      event: "failed",
      recipient: "gone@example.com",
      flags: { "is-delayed-bounce": true },
      "delivery-status": { code: 550, "bounce-code": "5.0.0" },
      message: { headers: { "message-id": d.messageId } },
      tags: ["newsletter", "january"],
    });
    expect(message.setReject).not.toHaveBeenCalled();
  });

  it("uses empty tags and variables when the message's metadata is gone", async () => {
    const domain = uniqueDomain("nometa");
    await createDomain(domain);
    const target = { domain, messageId: "lost@x", recipient: "nobody@example.net" };
    await storeReturnPath(target);
    const verp = await verpAddress(target, testEnv.TRACKING_SECRET);
    const sent = await deliver(inbound(verp, samples.postfixHardBounce({ ...target, verp })));
    expect(sent[0]!.event).toMatchObject({ tags: [], "user-variables": {}, message: { headers: { "message-id": "lost@x" } } });
  });
});

describe("feedback reports (ARF)", () => {
  it("turns a provider's abuse report into a complained event via the returned Return-Path", async () => {
    const d = await sentMessage("user@mail.example");
    const message = inbound(`fbl@${d.domain}`, samples.arfAbuse(d), { from: "feedbackloop@provider.example" });
    const sent = await deliver(message);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.domain).toBe(d.domain);
    expect(sent[0]!.event).toMatchObject({
      event: "complained",
      "log-level": "warn",
      recipient: "user@mail.example",
      message: { headers: { "message-id": d.messageId, subject: "January news" } },
      tags: ["newsletter", "january"],
      "user-variables": { customer: "c-42" },
    });
    expect(sent[0]!.event.severity).toBeUndefined();
    expect(message.setReject).not.toHaveBeenCalled();
  });

  it("finds the delivery through Original-Mail-From when no returned message is attached", async () => {
    const d = await sentMessage("user@mail.example");
    const sent = await deliver(inbound(`fbl@${d.domain}`, samples.arfHeadersOnly(d, "abuse")));
    expect(sent.map((s) => [s.event.event, s.event.recipient])).toEqual([["complained", "user@mail.example"]]);
  });

  it("does not count a not-spam report as a complaint", async () => {
    const d = await sentMessage("user@mail.example");
    expect(await deliver(inbound(d.verp, samples.arfHeadersOnly(d, "not-spam")))).toEqual([]);
  });
});

describe("anything else", () => {
  it("ignores an auto-reply sent to a bounce address without rejecting it", async () => {
    const d = await sentMessage();
    const message = inbound(d.verp, samples.autoReply(d));
    expect(await deliver(message)).toEqual([]);
    expect(message.setReject).not.toHaveBeenCalled();
  });

  it("rejects ordinary mail sent to an address that is not a bounce address", async () => {
    const d = await sentMessage();
    const message = inbound(`hello@${d.domain}`, samples.autoReply(d));
    expect(await deliver(message)).toEqual([]);
    expect(message.setReject).toHaveBeenCalledTimes(1);
  });

  it.each([
    ["an empty body", () => ""],
    ["binary garbage", () => crypto.getRandomValues(new Uint8Array(4096))],
    ["a report with no boundary", (d: Delivery) => samples.postfixHardBounce(d).replace(/;\r\n\tboundary="[^"]+"/, "")],
    ["a report cut off before its recipient fields", (d: Delivery) => samples.postfixHardBounce(d).split("Final-Recipient")[0]!],
    ["unbalanced nested multiparts", (d: Delivery) => samples.unbalancedMultipart(d)],
  ])("emits nothing and does not throw for %s", async (_name, make) => {
    const d = await sentMessage();
    const message = inbound(d.verp, make(d));
    expect(await deliver(message)).toEqual([]);
    expect(message.setReject).not.toHaveBeenCalled();
  });

  it("does not throw when the message stream fails halfway", async () => {
    const d = await sentMessage();
    const raw = encoder.encode(samples.postfixHardBounce(d));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(raw.subarray(0, 200));
        controller.error(new Error("connection reset"));
      },
    });
    expect(await deliver(inbound(d.verp, stream, { rawSize: raw.byteLength }))).toEqual([]);
  });

  it("refuses a message whose declared size is over the cap without reading it", async () => {
    const d = await sentMessage();
    const message = inbound(d.verp, samples.postfixHardBounce(d), { rawSize: MAX_INBOUND_BYTES + 1 });
    expect(await deliver(message)).toEqual([]);
    expect(message.raw.locked).toBe(false);
  });

  it("stops reading a stream that runs past the cap, however small its declared size", async () => {
    const d = await sentMessage();
    // A valid hard bounce followed by an epilogue: without the cap it would be recorded.
    const head = encoder.encode(samples.postfixHardBounce(d));
    const padding = encoder.encode(`${"x".repeat(1023)}\n`.repeat(1024)); // 1 MiB
    let pulls = 0;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        if (pulls > 40) controller.close();
        else controller.enqueue(pulls === 1 ? head : padding);
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await deliver(inbound(d.verp, stream, { rawSize: head.byteLength }))).toEqual([]);
    expect(cancelled).toBe(true);
    expect(pulls).toBeLessThanOrEqual(13);
  });
});

describe("through the real events queue, D1 and the domain's Durable Object", () => {
  async function storedEvent(domain: string, type: string): Promise<Record<string, any>> {
    return waitFor(async () => {
      const results = await storedEvents(domain);
      return results.map((r) => JSON.parse(r.body) as Record<string, any>).find((e) => e.event === type);
    });
  }
  const suppressionOf = async (d: Delivery) =>
    valueOrThrow(await testEnv.DOMAIN_STATE.get(testEnv.DOMAIN_STATE.idFromName(d.domain)).checkRecipients([d.recipient], []))[0]!.suppressed;

  it("stores a hard bounce and puts the recipient on the bounce list", async () => {
    const d = await sentMessage("Nobody@Example.net", "e2eb");
    expect(await suppressionOf(d)).toBeNull();
    await handleInboundEmail(inbound(d.verp, samples.postfixHardBounce(d)) as unknown as ForwardableEmailMessage, testEnv, createExecutionContext());
    const event = await storedEvent(d.domain, "failed");
    expect(event).toMatchObject({
      recipient: "Nobody@Example.net",
      severity: "permanent",
      flags: { "is-delayed-bounce": true },
      tags: ["newsletter", "january"],
    });
    const suppressed = await waitFor(async () => (await suppressionOf(d)) ?? undefined);
    expect(suppressed.code).toBe(605);
  });

  it("turns a DSN to the return path of a Messages API send into a failed event and a bounce", async () => {
    const domain = uniqueDomain("e2ev");
    await createDomain(domain);
    const recorded = recordingQueues(testEnv);
    const form = new FormData();
    for (const [name, value] of [
      ["from", `News <news@${domain}>`],
      ["to", "Gone <Gone.User@example.net>"],
      ["subject", "January news"],
      ["text", "t"],
      ["o:tag", "newsletter"],
    ])
      form.append(name!, value!);
    const response = await apiWith(recorded.env, `/v3/${domain}/messages`, { method: "POST", body: form });
    expect(response.status).toBe(200);
    const job = recorded.deliveries[0]!;
    // RFC 5321 4.5.3.1.1: at most 64 octets of local part, lower case so case-folding MTAs keep it.
    const local = job.from.slice(0, job.from.lastIndexOf("@"));
    expect(encoder.encode(local).length).toBeLessThanOrEqual(64);
    expect(job.from).toMatch(new RegExp(`^bounce\\+[a-z2-7]+@${domain.replace(/\./g, "\\.")}$`));

    const d: Delivery = { domain, messageId: job.facts.headers["message-id"]!, recipient: job.recipient, verp: job.from };
    await handleInboundEmail(inbound(job.from, samples.postfixHardBounce(d)) as unknown as ForwardableEmailMessage, testEnv, createExecutionContext());
    const event = await storedEvent(domain, "failed");
    expect(event).toMatchObject({
      recipient: "Gone.User@example.net",
      severity: "permanent",
      flags: { "is-delayed-bounce": true },
      tags: ["newsletter"],
      message: { headers: { "message-id": job.facts.headers["message-id"] } },
    });
    const suppressed = await waitFor(async () => (await suppressionOf(d)) ?? undefined);
    expect(suppressed.code).toBe(605);
  });

  it("stores a complaint and puts the recipient on the complaint list", async () => {
    const d = await sentMessage("user@mail.example", "e2ec");
    await handleInboundEmail(inbound(d.verp, samples.arfAbuse(d)) as unknown as ForwardableEmailMessage, testEnv, createExecutionContext());
    expect((await storedEvent(d.domain, "complained")).recipient).toBe("user@mail.example");
    const suppressed = await waitFor(async () => (await suppressionOf(d)) ?? undefined);
    expect(suppressed.code).toBe(607);
  });
});

describe("report parsing (pure)", () => {
  const STATUS = [
    "Reporting-MTA: dns; mx.example.net",
    "Arrival-Date: Tue, 14 Jan 2025 10:12:01 +0000",
    "",
    "Final-Recipient: rfc822; a@example.org",
    "Action: delayed",
    "Status: 4.4.1",
    "Diagnostic-Code: smtp; 451 4.4.1 try",
    "  again later",
    "",
    "Original-Recipient: rfc822;<B@Example.org>",
    "Final-Recipient: RFC822; b@example.org",
    "Action: Failed (permanent)",
    "Status: 5.7.1 (delivery not authorized)",
    "Diagnostic-Code: smtp;550-5.7.1 Message rejected",
    "\tby policy",
    "",
  ].join("\r\n");

  it("splits a delivery-status body into per-recipient fields, unfolding folded lines", () => {
    expect(parseDeliveryStatus(STATUS)).toEqual([
      { finalRecipient: "a@example.org", originalRecipient: undefined, action: "delayed", status: "4.4.1", diagnostic: "451 4.4.1 try again later" },
      {
        finalRecipient: "b@example.org",
        originalRecipient: "B@Example.org",
        action: "failed",
        status: "5.7.1",
        diagnostic: "550-5.7.1 Message rejected by policy",
      },
    ]);
    expect(parseDeliveryStatus("")).toEqual([]);
    expect(parseDeliveryStatus("just some text\nwithout fields")).toEqual([]);
  });

  it("keeps the first of a repeated field and skips lines that are not fields", () => {
    expect(parseFieldGroups("A: 1\nnot a field\nA: 2\nB-C:  x   y \n\n\nD: 4")).toEqual([{ a: "1", "b-c": "x y" }, { d: "4" }]);
  });

  it("classifies recipients: only failed with 5.x.x is permanent", () => {
    const r = (action: string, status: string) => ({ action, status, diagnostic: "" });
    expect(classifyRecipient(r("failed", "5.1.1"))).toBe("permanent");
    expect(classifyRecipient(r("failed", "4.4.7"))).toBe("temporary");
    expect(classifyRecipient(r("delayed", "4.2.2"))).toBe("temporary");
    expect(classifyRecipient(r("delayed", ""))).toBe("temporary");
    expect(classifyRecipient(r("failed", ""))).toBe("ignore");
    expect(classifyRecipient(r("delivered", "2.0.0"))).toBe("ignore");
    expect(classifyRecipient(r("relayed", "2.0.0"))).toBe("ignore");
  });

  it("picks the failure naming the delivery's recipient, else the first permanent one", () => {
    const reports = parseDeliveryStatus(STATUS);
    expect(permanentFailureFor(reports, "b@example.org")?.status).toBe("5.7.1");
    const two = [...reports, { finalRecipient: "c@example.org", action: "failed", status: "5.1.1", diagnostic: "" }];
    expect(permanentFailureFor(two, "C@example.org")?.finalRecipient).toBe("c@example.org");
    expect(permanentFailureFor(two, "someone@else.org")?.finalRecipient).toBe("b@example.org");
    expect(permanentFailureFor(reports.slice(0, 1), "a@example.org")).toBeUndefined();
  });

  it("takes the SMTP code from the diagnostic, 550 when there is none", () => {
    expect(smtpCodeOf("554 5.7.1 rejected")).toBe(554);
    expect(smtpCodeOf("550-5.7.1 rejected")).toBe(550);
    expect(smtpCodeOf("552")).toBe(552);
    expect(smtpCodeOf("Host or domain name not found")).toBe(550);
    expect(smtpCodeOf("5500 nonsense")).toBe(550);
    expect(bounceStatusOf({ action: "failed", status: "5.1.2", diagnostic: "" })).toEqual({
      code: 550,
      message: "",
      description: "",
      attemptNo: 1,
      bounceCode: "5.1.2",
    });
  });

  it("tells a report's kind from its Content-Type, or from its parts", () => {
    expect(reportKindOf('multipart/report; report-type="delivery-status"; boundary="x"', [])).toBe("delivery-status");
    expect(reportKindOf("Multipart/Report; boundary=x;\r\n report-type=Feedback-Report", [])).toBe("feedback-report");
    expect(reportKindOf("multipart/report; report-type=global-delivery-status", [])).toBe("delivery-status");
    expect(reportKindOf("multipart/mixed; boundary=x", ["text/plain", "message/delivery-status"])).toBe("delivery-status");
    expect(reportKindOf(undefined, ["message/feedback-report"])).toBe("feedback-report");
    expect(reportKindOf("multipart/report; report-type=disposition-notification", ["message/disposition-notification"])).toBe("other");
    expect(reportKindOf("text/plain", [])).toBe("other");
    expect(headerParam('multipart/report; boundary="a;b"; report-type=delivery-status', "boundary")).toBe("a;b");
  });

  it("reads a feedback report and knows which types are complaints", () => {
    const report = parseFeedbackReport(
      "Feedback-Type: Abuse\r\nUser-Agent: x/1\r\nVersion: 1\r\nOriginal-Mail-From: <bounce+abc@d.example>\r\nOriginal-Rcpt-To: <u@x.example>\r\n",
    );
    expect(report).toEqual({ feedbackType: "abuse", originalMailFrom: "bounce+abc@d.example", originalRcptTo: "u@x.example" });
    expect(isComplaint(report)).toBe(true);
    expect(isComplaint({ feedbackType: "" })).toBe(true);
    expect(isComplaint({ feedbackType: "not-spam" })).toBe(false);
    expect(isComplaint({ feedbackType: "auth-failure" })).toBe(false);
  });

  it("lists VERP candidates most trusted first, bounce+ addresses only, without repeats", () => {
    const returned =
      "Received: from a by b\r\n\t(envelope-from <bounce+ccc@d.example>)\r\nReturn-Path: <bounce+bbb@d.example>\r\nTo: u@x\r\n\r\nbody bounce+body@d.example";
    expect(
      verpCandidates({
        envelopeTo: "bounce+aaa@d.example",
        returnedHeaders: [returned],
        originalMailFrom: "<bounce+ddd@d.example>",
        failedRecipients: ["u@x.example, bounce+eee@d.example"],
      }),
    ).toEqual(["bounce+aaa@d.example", "bounce+bbb@d.example", "bounce+ddd@d.example", "bounce+ccc@d.example", "bounce+eee@d.example"]);
    expect(verpCandidates({ envelopeTo: "postmaster@d.example", returnedHeaders: ["Return-Path: <>"], failedRecipients: [] })).toEqual([]);
    const many = Array.from({ length: 20 }, (_, i) => `X-Other: bounce+n${i}@d.example`).join("\n");
    expect(verpCandidates({ envelopeTo: "x@y", returnedHeaders: [many], failedRecipients: [] })).toHaveLength(8);
  });

  it("recognises bare bounce+ addresses only", () => {
    expect(isVerpAddress("bounce+AbC_-9@mail.example.com")).toBe(true);
    expect(isVerpAddress("Bounce+abc@d.example")).toBe(true);
    expect(isVerpAddress("bounce@d.example")).toBe(false);
    expect(isVerpAddress("hello@d.example")).toBe(false);
    expect(isVerpAddress("x bounce+abc@d.example")).toBe(false);
  });

  it("derives a stable 22-character event id per kind and delivery", async () => {
    const target = { domain: "d.example", messageId: "m@d", recipient: "U@x.example" };
    const id = await inboundEventId("failed", target);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await inboundEventId("failed", { ...target, recipient: "u@x.example" })).toBe(id);
    expect(await inboundEventId("complained", target)).not.toBe(id);
    expect(await inboundEventId("failed", { ...target, messageId: "n@d" })).not.toBe(id);
  });
});

// ---------------------------------------------------------------------------------------------
// Samples, written after what Postfix, Sendmail, Exim and feedback loops send (RFC 3464 and
// RFC 5965 layouts, CRLF line ends, folded header fields). Function declarations: hoisted.

interface Sample {
  domain: string;
  messageId: string;
  recipient: string;
  verp: string;
}

function crlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

/** Headers of the message we sent, as the remote MTA received them. */
function originalHeaders(d: Sample): string {
  return `Return-Path: <${d.verp}>
Received: from relay.tidings.test (relay.tidings.test [203.0.113.10])
	by mx.example.net (Postfix) with ESMTPS id 1B2C3D4E5F
	for <${d.recipient}>; Tue, 14 Jan 2025 10:12:01 +0000 (UTC)
From: News <news@${d.domain}>
To: ${d.recipient}
Subject: January news
Message-ID: <${d.messageId}>
Date: Tue, 14 Jan 2025 10:11:58 +0000
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8`;
}

const samples = {
  postfixHardBounce(d: Sample): string {
    return crlf(`Return-Path: <>
Received: by mx.example.net (Postfix)
	id 3F2A1C0123; Tue, 14 Jan 2025 10:12:03 +0000 (UTC)
Date: Tue, 14 Jan 2025 10:12:03 +0000 (UTC)
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: ${d.verp}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="3F2A1C0123.1736849523/mx.example.net"
Content-Transfer-Encoding: 8bit
Message-Id: <20250114101203.3F2A1C0123@mx.example.net>

This is a MIME-encapsulated message.

--3F2A1C0123.1736849523/mx.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<${d.recipient}>: host mail.example.net[192.0.2.25] said: 550 5.1.1
    <${d.recipient}>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)

--3F2A1C0123.1736849523/mx.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 3F2A1C0123
X-Postfix-Sender: rfc822; ${d.verp}
Arrival-Date: Tue, 14 Jan 2025 10:12:01 +0000 (UTC)

Final-Recipient: rfc822; ${d.recipient}
Original-Recipient: rfc822;${d.recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.example.net
Diagnostic-Code: smtp; 550 5.1.1 <${d.recipient}>: Recipient address
    rejected: User unknown in local recipient table

--3F2A1C0123.1736849523/mx.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

${originalHeaders(d)}

--3F2A1C0123.1736849523/mx.example.net--
`);
  },

  /** A list address expanded to two mailboxes: one is full (permanent), one unreachable for now. */
  sendmailMixed(d: Sample): string {
    const boundary = "50EAC3x1012345.1736853123/mail.example.org";
    return crlf(`Return-Path: <>
Received: from localhost (localhost)
	by mail.example.org (8.17.1/8.17.1) id 50EAC3x1012345;
	Tue, 14 Jan 2025 11:12:03 GMT
Date: Tue, 14 Jan 2025 11:12:03 GMT
From: Mail Delivery Subsystem <MAILER-DAEMON@mail.example.org>
Message-Id: <202501141112.50EAC3x1012345@mail.example.org>
To: <${d.verp}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="${boundary}"
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)

This is a MIME-encapsulated message

--${boundary}

The original message was received at Tue, 14 Jan 2025 11:10:01 GMT
from relay.tidings.test [203.0.113.10]

   ----- The following addresses had permanent fatal errors -----
<alice@example.org>
    (reason: 552 5.2.2 Mailbox full: alice@example.org is over quota)
    (expanded from: <team@example.org>)

   ----- The following addresses had transient non-fatal errors -----
<bob@example.org>
    (expanded from: <team@example.org>)

--${boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.org
Received-From-MTA: DNS; relay.tidings.test
Arrival-Date: Tue, 14 Jan 2025 11:10:01 GMT

Original-Recipient: rfc822;team@example.org
Final-Recipient: RFC822; bob@example.org
Action: delayed
Status: 4.4.1
Remote-MTA: DNS; mx.bob-host.example
Diagnostic-Code: SMTP; 451 4.4.1 reply: read error from mx.bob-host.example.
Last-Attempt-Date: Tue, 14 Jan 2025 11:12:03 GMT
Will-Retry-Until: Sat, 18 Jan 2025 11:10:01 GMT

Original-Recipient: rfc822;team@example.org
Final-Recipient: RFC822; alice@example.org
Action: failed
Status: 5.2.2
Remote-MTA: DNS; mx.alice-host.example
Diagnostic-Code: SMTP; 552 5.2.2 Mailbox full: alice@example.org is over quota
Last-Attempt-Date: Tue, 14 Jan 2025 11:12:03 GMT

--${boundary}
Content-Type: text/rfc822-headers

${originalHeaders(d)}

--${boundary}--
`);
  },

  delayOnly(d: Sample): string {
    return crlf(`Return-Path: <>
Date: Tue, 14 Jan 2025 14:12:03 +0000 (UTC)
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: ${d.verp}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="9A8B7C6D5E.1736863923/mx.example.net"

--9A8B7C6D5E.1736863923/mx.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

--9A8B7C6D5E.1736863923/mx.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 9A8B7C6D5E
Arrival-Date: Tue, 14 Jan 2025 10:12:01 +0000 (UTC)

Final-Recipient: rfc822; ${d.recipient}
Original-Recipient: rfc822;${d.recipient}
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mail.example.net[192.0.2.25]:25:
    Connection timed out
Will-Retry-Until: Sat, 18 Jan 2025 10:12:01 +0000 (UTC)

--9A8B7C6D5E.1736863923/mx.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

${originalHeaders(d)}

--9A8B7C6D5E.1736863923/mx.example.net--
`);
  },

  /** Sent by a misconfigured MTA to the From address, with the whole original message attached. */
  eximWithReturnedMessage(d: Sample): string {
    const boundary = "1736856001-eximdsn-1804289383";
    return crlf(`Return-path: <>
Received: from Debian-exim by mx.example.com with local (Exim 4.96)
	id 1tXb2C-0003Xy-2T
	for postmaster@${d.domain}; Tue, 14 Jan 2025 12:00:01 +0000
X-Failed-Recipients: ${d.recipient}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mx.example.com>
To: postmaster@${d.domain}
References: <${d.messageId}>
Content-Type: multipart/report; report-type=delivery-status; boundary=${boundary}
MIME-Version: 1.0
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1tXb2C-0003Xy-2T@mx.example.com>
Date: Tue, 14 Jan 2025 12:00:01 +0000

--${boundary}
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  ${d.recipient}
    host mx.example.com [192.0.2.30]
    SMTP error from remote mail server after RCPT TO:<${d.recipient}>:
    550 No such user here

--${boundary}
Content-type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Action: failed
Final-Recipient: rfc822;${d.recipient}
Status: 5.0.0
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 No such user here

--${boundary}
Content-type: message/rfc822

Return-path: <${d.verp}>
Received: from relay.tidings.test ([203.0.113.10])
	by mx.example.com with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384
	(Exim 4.96)
	(envelope-from <${d.verp}>)
	id 1tXb2A-0003Xw-1R
	for ${d.recipient}; Tue, 14 Jan 2025 12:00:00 +0000
From: News <news@${d.domain}>
To: ${d.recipient}
Subject: January news
Message-ID: <${d.messageId}>
Date: Tue, 14 Jan 2025 11:59:58 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello! Here is the January news.

--${boundary}--
`);
  },

  /** A mailbox provider's feedback loop: recipient redacted, our message attached whole. */
  arfAbuse(d: Sample): string {
    const boundary = "----=_Part_1234_5678.1736860000000";
    return crlf(`Return-Path: <>
From: Provider Feedback Loop <feedbackloop@provider.example>
To: fbl@${d.domain}
Subject: Email Feedback Report for IP 203.0.113.10
Date: Tue, 14 Jan 2025 15:00:00 +0000
Message-ID: <fbl.1736866800.42@provider.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
	boundary="${boundary}"

--${boundary}
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
203.0.113.10 on Tue, 14 Jan 2025 12:00:00 +0000. For more information
about this format please see http://www.mipassoc.org/arf/.

--${boundary}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ProviderFBL/1.0
Version: 1
Received-Date: Tue, 14 Jan 2025 12:00:00 +0000
Source-IP: 203.0.113.10
Reported-Domain: ${d.domain}

--${boundary}
Content-Type: message/rfc822
Content-Disposition: inline

Return-Path: <${d.verp}>
Received: from relay.tidings.test (EHLO relay.tidings.test) (203.0.113.10)
  by mta1.provider.example with SMTPS; Tue, 14 Jan 2025 12:00:00 +0000
From: News <news@${d.domain}>
To: redacted@provider.example
Subject: January news
Message-ID: <${d.messageId}>
Date: Tue, 14 Jan 2025 11:59:58 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello! Here is the January news.

--${boundary}--
`);
  },

  /** An ARF report with headers only and no Return-Path: the delivery is in Original-Mail-From. */
  arfHeadersOnly(d: Sample, feedbackType: string): string {
    return crlf(`From: <fbl@provider.example>
To: fbl@${d.domain}
Subject: FW: January news
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf-7"

--arf-7
Content-Type: text/plain

A user of provider.example reported this message.

--arf-7
Content-Type: message/feedback-report

Feedback-Type: ${feedbackType}
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <${d.verp}>
Original-Rcpt-To: <${d.recipient}>
Authentication-Results: provider.example;
    spf=pass smtp.mailfrom=${d.domain}

--arf-7
Content-Type: text/rfc822-headers

From: News <news@${d.domain}>
Subject: January news
Message-ID: <${d.messageId}>

--arf-7--
`);
  },

  autoReply(d: Sample): string {
    return crlf(`From: Nobody <${d.recipient}>
To: News <news@${d.domain}>
Subject: Automatic reply: January news
Auto-Submitted: auto-replied
In-Reply-To: <${d.messageId}>
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday. Action: failed. Status: 5.1.1.
`);
  },

  unbalancedMultipart(d: Sample): string {
    return crlf(`To: ${d.verp}
Content-Type: multipart/report; report-type=delivery-status; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain

Final-Recipient: rfc822; ${d.recipient}
Action: failed
Status: 5.1.1
--outer
Content-Type: message/delivery-status
Content-Transfer-Encoding: base64

!!! not base64 at all !!!
--outer
`);
  },
};
