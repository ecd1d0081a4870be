// BOUNCE_DOMAIN: return paths on an operator-owned domain (the only kind Email Routing can hand to
// the Worker) for a customer's sending domain that is not it. A Messages API send through the
// compose stage, then the sample DSN and ARF report of samples/ (as `npm run bounce` fills them)
// sent to the email() handler, through the real events queue, D1 and the domain's Durable Object.
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import arfSample from "../../samples/arf.eml?raw";
import dsnSample from "../../samples/dsn.eml?raw";
import { findReturnPathById } from "../../src/db/return-paths";
import { dayOf } from "../../src/domain/event-shards";
import { valueOrThrow } from "../../src/domain/refusal";
import { bounceDomainOf, parseVerpAddress, verpAddress } from "../../src/domain/verp";
import type { Env } from "../../src/env";
import { handleInboundEmail } from "../../src/inbound/handle-email";
import { fillSample, returnedHeaders } from "../../src/tools/bounce-sample.mjs";
import { apiWith, createDomain, everyPartition, recordingQueues, shardRecordingEnv, storedEvents, uniqueDomain, waitFor } from "../helpers";

const testEnv = env as unknown as Env;
const BOUNCE_DOMAIN = "bounces.tidings.test";
const bounceEnv: Env = { ...testEnv, BOUNCE_DOMAIN };

function inbound(to: string, raw: string) {
  return {
    from: "MAILER-DAEMON@mx.example.net",
    to,
    headers: new Headers(),
    raw: new Blob([raw]).stream(),
    rawSize: new TextEncoder().encode(raw).byteLength,
    setReject: vi.fn(),
    forward: vi.fn(async () => ({ messageId: "" })),
    reply: vi.fn(async () => ({ messageId: "" })),
  };
}

/** Sends one message through the Messages API and the compose stage; its delivery's envelope sender and copy. */
async function sendOne(callEnv: Env, recipient: string): Promise<{ domain: string; returnPath: string; mime: string }> {
  const domain = uniqueDomain("bd");
  await createDomain(domain);
  const recorded = recordingQueues(callEnv);
  const form = new FormData();
  for (const [name, value] of [
    ["from", `News <news@${domain}>`],
    ["to", recipient],
    ["subject", "January news"],
    ["text", "t"],
  ] as const)
    form.append(name, value);
  expect((await apiWith(recorded.env, `/v3/${domain}/messages`, { method: "POST", body: form })).status).toBe(200);
  const copy = recorded.deliveries[0]!;
  return { domain, returnPath: copy.from, mime: copy.mime };
}

function report(sample: string, sent: { returnPath: string; mime: string }, recipient: string): string {
  return fillSample(sample, {
    return_path: sent.returnPath,
    recipient,
    original_headers: returnedHeaders(sent.mime, sent.returnPath),
    date: new Date().toUTCString(),
  });
}

async function storedEvent(domain: string, type: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    const results = await storedEvents(domain);
    return results.map((r) => JSON.parse(r.body) as Record<string, any>).find((e) => e.event === type);
  });
}

const suppressionOf = async (domain: string, recipient: string) =>
  valueOrThrow(await testEnv.DOMAIN_STATE.get(testEnv.DOMAIN_STATE.idFromName(domain)).checkRecipients([recipient], []))[0]!.suppressed;

async function handle(callEnv: Env, message: ReturnType<typeof inbound>): Promise<void> {
  await handleInboundEmail(message as unknown as ForwardableEmailMessage, callEnv, createExecutionContext());
}

describe("BOUNCE_DOMAIN", () => {
  it("puts every delivery's return path on the bounce domain, 42 octets of local part", async () => {
    const sent = await sendOne(bounceEnv, "reader@example.net");
    expect(sent.returnPath).toMatch(/^bounce\+[a-z2-7]{35}@bounces\.tidings\.test$/);
    expect(sent.returnPath.endsWith(`@${sent.domain}`)).toBe(false);
  });

  it("keeps today's return path on the sending domain when empty", async () => {
    const sent = await sendOne({ ...testEnv, BOUNCE_DOMAIN: "" }, "reader@example.net");
    expect(sent.returnPath).toMatch(new RegExp(`^bounce\\+[a-z2-7]{35}@${sent.domain.replace(/\./g, "\\.")}$`));
  });

  it("turns the sample DSN to the bounce domain into a failed event and a bounce of the customer domain", async () => {
    const recipient = "Gone.User@example.net";
    const sent = await sendOne(bounceEnv, `Gone <${recipient}>`);
    const message = inbound(sent.returnPath, report(dsnSample, sent, recipient));
    await handle(bounceEnv, message);
    expect(message.setReject).not.toHaveBeenCalled();
    const event = await storedEvent(sent.domain, "failed");
    expect(event).toMatchObject({
      recipient,
      severity: "permanent",
      flags: { "is-delayed-bounce": true },
      "delivery-status": { code: 550, "bounce-code": "5.1.1" },
    });
    const suppressed = await waitFor(async () => (await suppressionOf(sent.domain, recipient)) ?? undefined);
    expect(suppressed.code).toBe(605);
  });

  it("turns the sample ARF report to the bounce domain into a complained event and a complaint of the customer domain", async () => {
    const recipient = "reader@mail.example";
    const sent = await sendOne(bounceEnv, recipient);
    await handle(bounceEnv, inbound(sent.returnPath, report(arfSample, sent, recipient)));
    expect((await storedEvent(sent.domain, "complained")).recipient).toBe(recipient);
    const suppressed = await waitFor(async () => (await suppressionOf(sent.domain, recipient)) ?? undefined);
    expect(suppressed.code).toBe(607);
  });

  it("still reads return paths on the sending domain, made before the setting", async () => {
    const recipient = "old.path@example.net";
    const sent = await sendOne({ ...testEnv, BOUNCE_DOMAIN: "" }, recipient);
    await handle(bounceEnv, inbound(sent.returnPath, report(dsnSample, sent, recipient)));
    expect((await storedEvent(sent.domain, "failed")).recipient).toBe(recipient);
  });

  it("still reads return paths on a former bounce domain after the setting changed", async () => {
    const recipient = "moved@example.net";
    const sent = await sendOne(bounceEnv, recipient);
    await handle({ ...testEnv, BOUNCE_DOMAIN: "new-bounces.tidings.test" }, inbound(sent.returnPath, report(dsnSample, sent, recipient)));
    expect((await storedEvent(sent.domain, "failed")).recipient).toBe(recipient);
  });

  it("records nothing for a forged address on the bounce domain", async () => {
    const recipient = "forged@example.net";
    const sent = await sendOne(bounceEnv, recipient);
    const at = sent.returnPath.indexOf("@");
    const forged = `${sent.returnPath.slice(0, at - 1)}${sent.returnPath[at - 1] === "a" ? "b" : "a"}${sent.returnPath.slice(at)}`;
    const sentEvents: unknown[] = [];
    await handle(
      { ...bounceEnv, ...everyPartition("events", { send: async (b: unknown) => void sentEvents.push(b) }) },
      inbound(forged, report(dsnSample, { ...sent, returnPath: forged }, recipient)),
    );
    expect(sentEvents).toEqual([]);
  });

  it("looks a report's return path up in the shards of the day its address names, not in 30 days'", async () => {
    const before = Date.now();
    const sent = await sendOne(bounceEnv, "counted@example.net");
    const parsed = await parseVerpAddress(sent.returnPath, testEnv.TRACKING_SECRET);
    if (parsed?.kind !== "id") throw new Error("not an id address");
    // The acceptance day (a run across midnight UTC may see either side).
    expect([dayOf(before * 1000), dayOf(Date.now() * 1000)]).toContain(parsed.day);
    const counting = () => {
      const recording = shardRecordingEnv(testEnv);
      return { env: recording.env, queries: () => recording.sql.length };
    };
    const byDay = counting();
    expect((await findReturnPathById(byDay.env, parsed.id, Date.now(), parsed.day))?.recipient).toBe("counted@example.net");
    // The day's databases: 2 locally (K = 2, no pins).
    expect(byDay.queries()).toBe(2);
    const without = counting();
    expect((await findReturnPathById(without.env, parsed.id))?.recipient).toBe("counted@example.net");
    expect(without.queries()).toBeGreaterThan(30);
  });

  it("reads the setting as a lower-cased hostname, and refuses anything else", () => {
    expect(bounceDomainOf("")).toBe("");
    expect(bounceDomainOf(undefined)).toBe("");
    expect(bounceDomainOf(" Bounces.Example.NET ")).toBe("bounces.example.net");
    for (const bad of ["bounces", "bounce@example.net", "bounces.example.net:25", "-x.example.net", "a b.example.net", "bounces..example.net"]) {
      expect(() => bounceDomainOf(bad), bad).toThrow(/BOUNCE_DOMAIN is not a hostname/);
    }
  });

  it("signs the id with the bounce domain's key, so the address verifies without knowing the customer domain", async () => {
    const target = { domain: "customer.example", messageId: "m-1@customer.example", recipient: "bob@example.org" };
    const address = await verpAddress(target, "secret", BOUNCE_DOMAIN);
    expect(address.endsWith(`@${BOUNCE_DOMAIN}`)).toBe(true);
    expect(await parseVerpAddress(address, "secret")).toMatchObject({ kind: "id", domain: BOUNCE_DOMAIN });
    expect(await parseVerpAddress(address.replace(BOUNCE_DOMAIN, "customer.example"), "secret")).toBeNull();
  });
});
