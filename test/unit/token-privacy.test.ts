// Generated payloads (seeded, so a failure can be run again): no sealed token carries a field of its
// link in any form someone could read off it — the recipient, the Message-ID, the URL, the domain,
// nor the message's tags — neither as bytes in the decoded token nor as base64 or base64url text in
// it. (Signed tokens, the default format, do show them: the last test shows the checks see that.)
import { describe, expect, it } from "vitest";
import { decodeBase64Url } from "../../src/domain/base64url";
import { signToken, type TokenPayload, verifyToken } from "../../src/domain/token";
import { type Prng, prng } from "../support/prng";

const SEED = 0x70c3e5;
const PAYLOADS = 3000;
const DOMAINS = 40;
const SECRET = "privacy-secret";
const secretFor = (v: number) => (v === 1 ? SECRET : null);
/**
 * Shortest field checked (unit: bytes). A shorter one could turn up in random bytes by chance: 8
 * bytes do so about once in 10^17 tries, and their 8-character base64 core once in 10^12.
 */
const MIN_FIELD_BYTES = 8;

const CHARS = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+=/?&%", "é", "ü", "ß", "例", "え", "😀", "ж"];

function text(rng: Prng, min: number, max: number): string {
  let out = "";
  for (let n = rng.int(min, max); out.length < n; ) out += rng.pick(CHARS);
  return out;
}

function payload(rng: Prng, domains: string[]): { payload: TokenPayload; tags: string[] } {
  const kind = rng.pick(["open", "click", "unsubscribe", "tag-unsubscribe"] as const);
  const domain = rng.pick(domains);
  return {
    payload: {
      kind,
      version: 1,
      issuedAt: rng.int(0, 2 ** 32 - 1),
      webPrefix: rng.pick(["email", "track", "links"]),
      domain,
      messageId: `<${text(rng, 8, 40)}@${domain}>`,
      recipient: `${text(rng, 8, 40)}@${text(rng, 4, 20)}.example`,
      url: kind === "click" ? `https://${text(rng, 4, 30)}.example/${text(rng, 8, 300)}` : "",
      https: rng.chance(0.5),
    },
    // Tags are not part of a link: they stay with the message. Checked all the same, so that no
    // later field carries them.
    tags: Array.from({ length: rng.int(0, 3) }, () => text(rng, MIN_FIELD_BYTES, 30)),
  };
}

const encoder = new TextEncoder();

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * The base64 and base64url texts that any encoding of `bytes` contains, whatever its offset in the
 * encoded data: for each of the three alignments, the characters that depend on `bytes` alone.
 */
function encodingsOf(bytes: Uint8Array): string[] {
  const found: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const shifted = new Uint8Array(offset + bytes.length);
    shifted.set(bytes, offset);
    const standard = shifted.toBase64({ omitPadding: true });
    // Characters 0-3 mix in the bytes before; the last 4 may mix in the bytes after.
    const core = standard.slice(offset === 0 ? 0 : 4, -4);
    if (core.length >= MIN_FIELD_BYTES) found.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return found;
}

describe("what a sealed token shows of its link", () => {
  it(`none of its fields, in ${PAYLOADS} generated payloads (seed ${SEED})`, async () => {
    const rng = prng(SEED);
    const domains = Array.from({ length: DOMAINS }, (_, i) => `d${i}-${text(rng, 6, 20).replace(/[^a-z0-9]/gi, "x")}.example`);
    let checked = 0;
    for (let i = 0; i < PAYLOADS; i++) {
      const { payload: made, tags } = payload(rng, domains);
      const token = await signToken(made, SECRET, "sealed");
      const context = `seed ${SEED}, payload ${i}: ${token}`;
      expect(await verifyToken(token, secretFor), context).toEqual(made.https ? made : { ...made, https: undefined });
      const bytes = decodeBase64Url(token)!;
      for (const field of [made.recipient, made.messageId, made.url, made.domain, ...tags]) {
        const utf8 = encoder.encode(field);
        if (utf8.length < MIN_FIELD_BYTES) continue;
        expect(indexOfBytes(bytes, utf8), `${context}: ${field}`).toBe(-1);
        for (const encoded of encodingsOf(utf8)) expect(token.includes(encoded), `${context}: ${field} as ${encoded}`).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(PAYLOADS * 3);
  });

  it("and the same checks find a field placed in random bytes at any offset", () => {
    // A guard on the checks themselves: they must see a field wherever it sits.
    const field = encoder.encode("recipient@example.org");
    for (let offset = 0; offset < 6; offset++) {
      const bytes = crypto.getRandomValues(new Uint8Array(offset + field.length + 5));
      bytes.set(field, offset);
      const token = bytes.toBase64({ alphabet: "base64url", omitPadding: true });
      expect(indexOfBytes(bytes, field)).toBe(offset);
      expect(
        encodingsOf(field).some((encoded) => token.includes(encoded)),
        `offset ${offset}`,
      ).toBe(true);
    }
  });

  it("and the same checks find every field in a signed token, which shows them", async () => {
    const rng = prng(SEED);
    for (let i = 0; i < 20; i++) {
      const { payload: made } = payload(rng, ["signed-format.example"]);
      const token = await signToken(made, SECRET, "signed");
      const bytes = decodeBase64Url(token)!;
      for (const field of [made.recipient, made.messageId, made.domain, ...(made.url ? [made.url] : [])]) {
        expect(indexOfBytes(bytes, encoder.encode(field)), field).toBeGreaterThan(0);
        expect(
          encodingsOf(encoder.encode(field)).some((encoded) => token.includes(encoded)),
          field,
        ).toBe(true);
      }
    }
  });
});
