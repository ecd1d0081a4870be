// The domain's Durable Object: suppression records and the one-call recipient check the send path
// uses (issue 3's "Suppressions enforced").
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { valueOrThrow } from "../../src/domain/refusal";
import { suppressionFor } from "../../src/domain/suppression";
import { uniqueDomain } from "../helpers";

const stubFor = (domain: string) => env.DOMAIN_STATE.get(env.DOMAIN_STATE.idFromName(domain));
const now = Date.now();

describe("suppressionFor", () => {
  const none = { bounced: false, complained: false, unsubscribedTags: [] as string[] };
  it("maps records to Mailgun's reasons and codes, bounce first", () => {
    expect(suppressionFor(none, ["a"])).toBeNull();
    expect(suppressionFor({ ...none, bounced: true, complained: true }, [])).toMatchObject({
      reason: "suppress-bounce",
      code: 605,
      description: "Not delivering to previously bounced address",
    });
    expect(suppressionFor({ ...none, complained: true, unsubscribedTags: ["*"] }, [])).toMatchObject({ reason: "suppress-complaint", code: 607 });
    expect(suppressionFor({ ...none, unsubscribedTags: ["*"] }, [])).toMatchObject({
      reason: "suppress-unsubscribe",
      code: 606,
      description: "Not delivering to unsubscribed address",
    });
    expect(suppressionFor({ ...none, unsubscribedTags: ["promo"] }, ["News", "Promo"])).toMatchObject({ code: 606 });
    expect(suppressionFor({ ...none, unsubscribedTags: ["promo"] }, ["news"])).toBeNull();
  });
});

describe("DomainState", () => {
  it("checks all of a message's recipients in one call, in order", async () => {
    const stub = stubFor(uniqueDomain("ds"));
    await stub.addBounces([{ address: "Bounced@Example.org", code: 550, error: "No such mailbox", createdAt: now }]);
    await stub.addComplaints([{ address: "angry@example.org", createdAt: now }]);
    await stub.addUnsubscribes([
      { address: "gone@example.org", tags: ["*"], createdAt: now },
      { address: "picky@example.org", tags: ["Promo"], createdAt: now },
    ]);
    const checks = valueOrThrow(
      await stub.checkRecipients(["fine@example.org", "bounced@example.org", "ANGRY@example.org", "gone@example.org", "picky@example.org"], ["promo"]),
    );
    expect(checks.map((c) => [c.recipient, c.suppressed?.code ?? null])).toEqual([
      ["fine@example.org", null],
      ["bounced@example.org", 605],
      ["ANGRY@example.org", 607],
      ["gone@example.org", 606],
      ["picky@example.org", 606],
    ]);
    const otherTag = valueOrThrow(await stub.checkRecipients(["picky@example.org"], ["news"]));
    expect(otherTag[0]!.suppressed).toBeNull();
  });

  it("never adds an allowlisted address or domain to the bounce list, and lifts its bounce", async () => {
    const stub = stubFor(uniqueDomain("allow"));
    await stub.addBounces([{ address: "vip@example.org", code: 550, error: "x", createdAt: now }]);
    expect(valueOrThrow(await stub.checkRecipients(["vip@example.org"], []))[0]!.suppressed?.code).toBe(605);
    await stub.addToAllowlist({ type: "address", value: "vip@example.org", reason: "CEO", createdAt: now });
    expect(valueOrThrow(await stub.checkRecipients(["vip@example.org"], []))[0]!.suppressed).toBeNull();
    expect(await stub.addBounces([{ address: "vip@example.org", code: 550, error: "x", createdAt: now }])).toBe(0);

    await stub.addToAllowlist({ type: "domain", value: "partner.example", reason: "", createdAt: now });
    expect(await stub.addBounces([{ address: "anyone@partner.example", code: 550, error: "x", createdAt: now }])).toBe(0);
    expect(await stub.addBounces([{ address: "anyone@elsewhere.example", code: 550, error: "x", createdAt: now }])).toBe(1);
    expect(valueOrThrow(await stub.checkRecipients(["anyone@partner.example", "anyone@elsewhere.example"], [])).map((c) => c.suppressed?.code ?? null)).toEqual(
      [null, 605],
    );
  });

  it("keeps the first time of repeated unsubscribes and complaints", async () => {
    const stub = stubFor(uniqueDomain("repeat"));
    expect(await stub.addComplaints([{ address: "a@example.org", createdAt: 1000 }])).toBe(1);
    expect(await stub.addComplaints([{ address: "a@example.org", createdAt: 2000 }])).toBe(0);
    expect(await stub.addUnsubscribes([{ address: "a@example.org", tags: ["*"], createdAt: 1000 }])).toBe(1);
    expect(await stub.addUnsubscribes([{ address: "a@example.org", tags: ["*", "x"], createdAt: 2000 }])).toBe(1);
    expect(await stub.getUnsubscribe("A@example.org")).toEqual({ address: "a@example.org", tags: ["*", "x"], createdAt: 1000 });
  });

  it("answers malformed arguments with a refusal instead of storing them", async () => {
    // Refusals are returned, never thrown: a throw would cross RPC as a plain Error (domain/refusal.ts).
    const stub = stubFor(uniqueDomain("bad"));
    expect(await stub.addBounces([{ address: "", code: 550, error: "", createdAt: now }])).toEqual({ refused: "0.address: must be an address" });
    expect(
      await stub.checkRecipients(
        Array.from({ length: 1001 }, (_, i) => `r${i}@x.org`),
        [],
      ),
    ).toEqual({ refused: "recipients: Too big: expected array to have <=1000 items" });
    expect(await stub.addToAllowlist({ type: "nope" as "domain", value: "x", reason: "", createdAt: now })).toMatchObject({
      refused: expect.stringMatching(/^0\.type: /),
    });
    expect(await stub.checkRecipients([""], [])).toEqual([{ recipient: "", suppressed: null }]);
    expect(await stub.listSuppressions("bounces", { page: "first", limit: 10 })).toEqual([]);
  });
});
