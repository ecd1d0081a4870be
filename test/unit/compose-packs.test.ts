// Compose packs (src/domain/compose-packs.ts): a send's recipients split into delivery queue
// messages by count, by content bytes and by JSON bytes, in order, each a valid v3 job.
import { describe, expect, it } from "vitest";
import { composePacks, type PackBase } from "../../src/domain/compose-packs";
import { composePackJobSchema, MAX_PACK_CONTENT_BYTES, MAX_PACK_COPIES } from "../../src/domain/delivery-job";
import { MAX_QUEUE_BODY_BYTES } from "../../src/domain/queue-messages";

const base: PackBase = {
  domain: "mg.example.com",
  messageId: "20261201.abc@mg.example.com",
  storage: { key: "20261201-AAAAAAAAAAAAAAAAAAAAAA", url: "http://127.0.0.1/v3/domains/mg.example.com/messages/20261201-AAAAAAAAAAAAAAAAAAAAAA" },
  acceptedAt: 1_795_000_000_000,
  notBefore: 0,
  tracking: { opens: true, pixelTop: false, clicks: "yes", unsubscribe: false },
};
const addresses = (n: number, pad = "") => Array.from({ length: n }, (_, i) => `r${i}${pad}@example.org`);

describe("compose packs", () => {
  it("packs 1,000 recipients into 10 jobs of 100, in order, parts numbered, suppressions kept", () => {
    const recipients = addresses(1000).map((address, i) => ({ address, contentBytes: 2000, ...(i === 5 ? { suppressed: "suppress-bounce" as const } : {}) }));
    const packs = composePacks(base, recipients);
    expect(packs.map((p) => p.recipients.length)).toEqual(Array(10).fill(MAX_PACK_COPIES));
    expect(packs.map((p) => p.part)).toEqual([...Array(10).keys()]);
    expect(packs.flatMap((p) => p.recipients.map((r) => r.address))).toEqual(addresses(1000));
    expect(packs[0]!.recipients[5]).toEqual({ address: "r5@example.org", suppressed: "suppress-bounce" });
    expect(packs[0]!.recipients[4]).toEqual({ address: "r4@example.org" });
    for (const pack of packs) expect(composePackJobSchema.parse(pack)).toMatchObject({ type: "delivery", v: 3, attempt: 1, ...base });
  });

  it("closes a pack before its recipients' content passes MAX_PACK_CONTENT_BYTES; a larger recipient is a pack of its own", () => {
    const big = MAX_PACK_CONTENT_BYTES / 4 + 1;
    const recipients = [
      ...addresses(5).map((address) => ({ address, contentBytes: big })),
      { address: "huge@example.org", contentBytes: MAX_PACK_CONTENT_BYTES * 2 },
      { address: "small@example.org", contentBytes: 10 },
    ];
    expect(composePacks(base, recipients).map((p) => p.recipients.map((r) => r.address))).toEqual([
      addresses(3),
      ["r3@example.org", "r4@example.org"],
      ["huge@example.org"],
      ["small@example.org"],
    ]);
  });

  it("closes a pack before its JSON passes a queue message", () => {
    // Longer than any address the API lets through (255 bytes): 100 of them would be 150 KB.
    const pad = "é".repeat(750);
    const packs = composePacks(
      base,
      addresses(1000, pad).map((address) => ({ address, contentBytes: 1 })),
    );
    expect(packs.length).toBeGreaterThan(10);
    for (const pack of packs) expect(new TextEncoder().encode(JSON.stringify(pack)).length).toBeLessThanOrEqual(MAX_QUEUE_BODY_BYTES);
    expect(packs.flatMap((p) => p.recipients.map((r) => r.address))).toEqual(addresses(1000, pad));
  });

  it("makes no pack of no recipients", () => {
    expect(composePacks(base, [])).toEqual([]);
  });
});
