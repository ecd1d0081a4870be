import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url } from "../../src/domain/base64url";
import {
  MAX_TOKEN_CHARS,
  secretsFromSettings,
  signToken,
  signTokenIfFits,
  type TokenFormat,
  type TokenPayload,
  tokenFormatFromSettings,
  verifyToken,
} from "../../src/domain/token";
import { domainTagOf, keyEpochOf, openingKey, verifiedDomainKey } from "../../src/domain/token-keys";
import { signReferenceToken } from "../support/signed-token";

const SECRET = "s3cret";
const secretFor = (v: number) => (v === 1 ? SECRET : v === 2 ? "newer" : null);
const base: TokenPayload = {
  kind: "click",
  version: 1,
  issuedAt: 1_700_000_000,
  webPrefix: "email",
  domain: "mg.example.com",
  messageId: "20250101.123@mg.example.com",
  recipient: "Bob@Example.org",
  url: "https://example.org/a?b=c&d=é",
};
const KINDS = ["open", "click", "unsubscribe", "tag-unsubscribe"] as const;
const FORMATS: TokenFormat[] = ["signed", "sealed"];
const forKind = (kind: TokenPayload["kind"], payload: TokenPayload = base): TokenPayload => ({ ...payload, kind, url: kind === "click" ? payload.url : "" });

/** Every token that differs from `token` in one bit (bits 0 and 7 of each byte) or one byte (all ones). */
function oneByteChanges(token: string): string[] {
  const bytes = decodeBase64Url(token)!;
  const changed: string[] = [];
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const copy = bytes.slice();
      copy[i] = copy[i]! ^ mask;
      changed.push(encodeBase64Url(copy));
    }
  }
  return changed;
}

describe.each(FORMATS)("%s tracking tokens", (format) => {
  const sign = (payload: TokenPayload, secret = SECRET) => signToken(payload, secret, format);

  it("round-trip every field of every kind, with and without the https flag, and are URL-safe", async () => {
    for (const kind of KINDS) {
      for (const https of [false, true]) {
        const payload: TokenPayload = https ? { ...forKind(kind), https: true } : forKind(kind);
        const token = await sign(payload);
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(await verifyToken(token, secretFor)).toEqual(payload);
      }
    }
    const unicode = { ...base, webPrefix: "ссылки", domain: "bücher.example", messageId: "<é@例え.jp>", recipient: "zoë@bücher.example" };
    expect(await verifyToken(await sign(unicode), secretFor)).toEqual(unicode);
  });

  it("round-trip fields of every length up to 255 bytes, ASCII or not (a length byte over 127 is not ASCII)", async () => {
    for (const length of [0, 1, 127, 128, 129, 200, 254, 255]) {
      for (const fill of ["a", "\u0000", "é", "\ufeff"]) {
        const text = fill.repeat(Math.floor(length / new TextEncoder().encode(fill).length));
        for (const field of ["webPrefix", "domain", "messageId", "recipient"] as const) {
          const payload = { ...base, [field]: text };
          expect(await verifyToken(await sign(payload), secretFor), `${field}: ${length} bytes of ${JSON.stringify(fill)}`).toEqual(payload);
        }
      }
    }
  });

  it("say their format in bit 0x40 of the kind byte", async () => {
    for (const kind of KINDS) expect(decodeBase64Url(await sign(forKind(kind)))![1]! & 0x40).toBe(format === "sealed" ? 0x40 : 0);
  });

  it("refuse every one-byte change, at every byte", async () => {
    for (const kind of ["open", "click"] as const) {
      const token = await sign({ ...forKind(kind), https: true });
      const changes = oneByteChanges(token);
      expect(changes.length).toBeGreaterThan(3 * 60);
      for (const changed of changes) expect(await verifyToken(changed, secretFor), changed).toBeNull();
    }
  });

  it("verify many at once, each to its own payload: a domain's first tokens (its key being derived) among tokens of known domains, and forgeries", async () => {
    // All verifications are started before any is awaited, so each one's crypto completes while
    // the others' bytes have been decoded since: nothing may be read from another call's bytes.
    const payloads = Array.from({ length: 60 }, (_, i) =>
      forKind(KINDS[i % KINDS.length]!, {
        ...base,
        domain: `interleaved-${format}-${i % 7}.example`,
        recipient: `reader${i}@example.org`,
        messageId: `m${i}@interleaved`,
        url: `https://example.org/${"p".repeat(i)}`,
      }),
    );
    const tokens = await Promise.all(payloads.map((payload) => sign(payload)));
    const forged = tokens.map((token) => {
      const bytes = decodeBase64Url(token)!;
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
      return encodeBase64Url(bytes);
    });
    const started = tokens.flatMap((token, i) => [verifyToken(token, secretFor), verifyToken(forged[i]!, secretFor)]);
    const results = await Promise.all(started);
    expect(results).toEqual(payloads.flatMap((payload) => [payload, null]));
  });

  it("refuse truncated and lengthened tokens, and garbage", async () => {
    const token = await sign(base);
    for (let cut = 1; cut < token.length; cut++) expect(await verifyToken(token.slice(0, token.length - cut), secretFor)).toBeNull();
    for (const extra of ["A", "AA", "AAAA", "_w"]) expect(await verifyToken(token + extra, secretFor)).toBeNull();
    for (const junk of ["", "x", "!!!!", "a/b", "a+b", "é", "A".repeat(5000)]) expect(await verifyToken(junk, secretFor)).toBeNull();
  });

  it("refuse a token made with another secret, or presented under another key version", async () => {
    expect(await verifyToken(await sign(base, "other"), secretFor)).toBeNull();
    const versioned = decodeBase64Url(await sign(base))!;
    versioned[0] = 2;
    expect(await verifyToken(encodeBase64Url(versioned), secretFor)).toBeNull();
  });

  it("honour an older key version only while its secret is configured", async () => {
    const old = await sign({ ...base, version: 2 }, "newer");
    expect(await verifyToken(old, secretFor)).toEqual({ ...base, version: 2 });
    expect(await verifyToken(old, (v) => (v === 1 ? SECRET : null))).toBeNull();
  });

  it("keep a domain's key only once a token proved authentic with it", async () => {
    const payload = { ...base, domain: `forged-only-${format}.example` };
    const keptKey = async () =>
      format === "sealed"
        ? openingKey(SECRET, await domainTagOf(SECRET, payload.domain), keyEpochOf(payload.issuedAt))
        : verifiedDomainKey(SECRET, payload.domain);
    const token = await sign(payload);
    const bytes = decodeBase64Url(token)!;
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    expect(await verifyToken(encodeBase64Url(bytes), secretFor)).toBeNull();
    expect(await keptKey()).toBeUndefined(); // a forged token kept nothing
    expect(await verifyToken(token, secretFor)).toEqual(payload);
    expect(await keptKey()).toBeDefined();
    expect(await verifyToken(token, secretFor)).toEqual(payload); // and with the kept key
  });

  it(`are made up to ${MAX_TOKEN_CHARS} characters, which verify, and no longer`, async () => {
    // Non-ASCII URL text (2 bytes a character) reaches the cap with far fewer characters than ASCII.
    let longest: string | null = null;
    let url = "https://example.org/";
    for (;;) {
      const token = await signTokenIfFits({ ...base, url }, SECRET, format);
      if (token === null) break;
      longest = token;
      url += "é";
    }
    expect(longest!.length).toBeGreaterThan(MAX_TOKEN_CHARS - 3);
    expect(longest!.length).toBeLessThanOrEqual(MAX_TOKEN_CHARS);
    expect((await verifyToken(longest!, secretFor))?.url).toBe(url.slice(0, -1));
    await expect(sign({ ...base, url })).rejects.toThrow(RangeError);
    // One character past the cap is refused unread, whatever it holds.
    expect(await verifyToken(longest! + "A".repeat(MAX_TOKEN_CHARS + 1 - longest!.length), secretFor)).toBeNull();
  });

  it("refuse fields over 255 bytes, and key versions outside 1-255, when made", async () => {
    await expect(sign({ ...base, messageId: "x".repeat(256) })).rejects.toThrow(RangeError);
    for (const version of [0, 256, 1.5]) await expect(sign({ ...base, version })).rejects.toThrow(RangeError);
  });
});

describe("signed tokens", () => {
  it("are byte for byte the format links were signed in before sealed tokens existed", async () => {
    for (const kind of KINDS) {
      for (const payload of [forKind(kind), { ...forKind(kind), https: true, version: 2 }]) {
        expect(await signToken(payload, SECRET, "signed")).toBe(await signReferenceToken(payload, SECRET));
      }
    }
  });

  it("refuse a token whose domain was swapped for another of the same length", async () => {
    const token = await signToken(base, SECRET, "signed");
    const swapped = decodeBase64Url(token)!;
    const at = 6 + 1 + base.webPrefix.length + 1;
    swapped.set(new TextEncoder().encode("mg.example.net"), at);
    expect(await verifyToken(token, secretFor)).toEqual(base);
    expect(await verifyToken(encodeBase64Url(swapped), secretFor)).toBeNull();
  });
});

describe("sealed tokens", () => {
  it("differ each time the same link is made (a random nonce), and each verifies", async () => {
    const tokens = await Promise.all(Array.from({ length: 20 }, () => signToken(base, SECRET, "sealed")));
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(await verifyToken(token, secretFor)).toEqual(base);
  });

  it("are sealed with the key of the month they were issued in, and refused under another month's", async () => {
    const january = { ...base, issuedAt: Date.parse("2026-01-15T00:00:00Z") / 1000 };
    const february = { ...base, issuedAt: Date.parse("2026-02-15T00:00:00Z") / 1000 };
    const [a, b] = [decodeBase64Url(await signToken(january, SECRET, "sealed"))!, decodeBase64Url(await signToken(february, SECRET, "sealed"))!];
    expect([(a[6]! << 8) | a[7]!, (b[6]! << 8) | b[7]!]).toEqual([keyEpochOf(january.issuedAt), keyEpochOf(january.issuedAt) + 1]);
    expect(a.subarray(2, 6)).toEqual(b.subarray(2, 6)); // one domain tag
    expect(await verifyToken(encodeBase64Url(b), secretFor)).toEqual(february);
    b.set(a.subarray(6, 8), 6); // February's token presented as January's
    expect(await verifyToken(encodeBase64Url(b), secretFor)).toBeNull();
  });

  it("refuse a token presented under another domain's tag", async () => {
    const bytes = decodeBase64Url(await signToken(base, SECRET, "sealed"))!;
    new DataView(bytes.buffer).setUint32(2, await domainTagOf(SECRET, "other.example.com"));
    expect(await verifyToken(encodeBase64Url(bytes), secretFor)).toBeNull();
  });

  it("are more than 0 and at most 26 characters (18 bytes and base64 rounding) longer than the signed tokens of the same link", async () => {
    for (const kind of KINDS) {
      for (let extra = 0; extra < 200; extra += 7) {
        const payload = forKind(kind, { ...base, url: `https://example.org/${"p".repeat(extra)}`, recipient: `${"r".repeat(extra % 50)}@example.org` });
        const grown = (await signToken(payload, SECRET, "sealed")).length - (await signToken(payload, SECRET, "signed")).length;
        expect(grown, `${kind}, ${extra}`).toBeGreaterThan(0);
        expect(grown, `${kind}, ${extra}`).toBeLessThanOrEqual(26);
      }
    }
  });
});

describe("token settings", () => {
  it("read current and retired secrets", () => {
    const { currentVersion, secretFor: lookup } = secretsFromSettings({
      TRACKING_SECRET: "now",
      TRACKING_KEY_VERSION: "3",
      TRACKING_SECRETS_PREVIOUS: "1:first, 2:second",
    });
    expect(currentVersion).toBe(3);
    expect([lookup(1), lookup(2), lookup(3), lookup(4)]).toEqual(["first", "second", "now", null]);
    expect(() => secretsFromSettings({ TRACKING_SECRET: "x", TRACKING_KEY_VERSION: "0" })).toThrow();
  });

  it('read the format of new links: "sealed" unless "signed" is asked for, and refuse anything else', () => {
    expect([{}, { TRACKING_TOKEN_FORMAT: "" }, { TRACKING_TOKEN_FORMAT: "signed" }, { TRACKING_TOKEN_FORMAT: "sealed" }].map(tokenFormatFromSettings)).toEqual([
      "sealed",
      "sealed",
      "signed",
      "sealed",
    ]);
    for (const bad of ["Sealed", "encrypted", " sealed"])
      expect(() => tokenFormatFromSettings({ TRACKING_TOKEN_FORMAT: bad }), bad).toThrow(/TRACKING_TOKEN_FORMAT/);
  });
});

describe("the runtime's base64", () => {
  it("is there (workerd at this compatibility date), and agrees with atob/btoa", () => {
    expect(typeof Uint8Array.fromBase64).toBe("function");
    expect(typeof Uint8Array.prototype.setFromBase64).toBe("function");
    expect(typeof Uint8Array.prototype.toBase64).toBe("function");
    for (let length = 0; length < 70; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const standard = btoa(String.fromCharCode(...bytes));
      const url = standard.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      expect(encodeBase64Url(bytes)).toBe(url);
      expect(decodeBase64Url(url)).toEqual(bytes);
    }
    for (const bad of ["a", "ab cd", "ab+d", "ab/d", "é", "abcde", "ab\u0141d", "abc\u00c1", "ab==", " abc"]) expect(decodeBase64Url(bad), bad).toBeNull();
  });
});
