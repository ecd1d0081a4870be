import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url } from "../../src/domain/base64url";
import { KeyNotLoaded, MAX_TOKEN_CHARS, secretsFromSettings, signToken, signTokenIfFits, verifyToken, verifyTokenNow, type TokenPayload } from "../../src/domain/token";
import { domainTagOf } from "../../src/domain/token-keys";
import { signLegacyToken } from "../support/legacy-token";

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

describe("tracking tokens", () => {
  it("round-trip every field of every kind, with and without the https flag, and are URL-safe", async () => {
    for (const kind of KINDS) {
      for (const https of [false, true]) {
        const payload: TokenPayload = https ? { ...forKind(kind), https: true } : forKind(kind);
        const token = await signToken(payload, SECRET);
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(await verifyToken(token, secretFor)).toEqual(payload);
      }
    }
    const unicode = { ...base, webPrefix: "ссылки", domain: "bücher.example", messageId: "<é@例え.jp>", recipient: "zoë@bücher.example" };
    expect(await verifyToken(await signToken(unicode, SECRET), secretFor)).toEqual(unicode);
  });

  it("differ each time the same link is made (a random nonce), and each verifies", async () => {
    const tokens = await Promise.all(Array.from({ length: 20 }, () => signToken(base, SECRET)));
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(await verifyToken(token, secretFor)).toEqual(base);
  });

  it("refuse every one-byte change, at every byte", async () => {
    for (const kind of ["open", "click"] as const) {
      const token = await signToken({ ...forKind(kind), https: true }, SECRET);
      const changes = oneByteChanges(token);
      expect(changes.length).toBeGreaterThan(3 * 60);
      for (const changed of changes) expect(await verifyToken(changed, secretFor), changed).toBeNull();
    }
  });

  it("refuse truncated and lengthened tokens, and garbage", async () => {
    const token = await signToken(base, SECRET);
    for (let cut = 1; cut < token.length; cut++) expect(await verifyToken(token.slice(0, token.length - cut), secretFor)).toBeNull();
    for (const extra of ["A", "AA", "AAAA", "_w"]) expect(await verifyToken(token + extra, secretFor)).toBeNull();
    for (const junk of ["", "x", "!!!!", "a/b", "a+b", "é", "A".repeat(5000)]) expect(await verifyToken(junk, secretFor)).toBeNull();
  });

  it("refuse a token made with another secret, or presented under another domain's key", async () => {
    expect(await verifyToken(await signToken(base, "other"), secretFor)).toBeNull();
    // The domain tag in the header picks the key: naming another domain's tag opens nothing.
    const bytes = decodeBase64Url(await signToken(base, SECRET))!;
    const otherTag = await domainTagOf(SECRET, "other.example.com");
    new DataView(bytes.buffer).setUint32(2, otherTag);
    expect(await verifyToken(encodeBase64Url(bytes), secretFor)).toBeNull();
    // The same under the other configured key version.
    const versioned = decodeBase64Url(await signToken(base, SECRET))!;
    versioned[0] = 2;
    expect(await verifyToken(encodeBase64Url(versioned), secretFor)).toBeNull();
  });

  it("honour an older key version only while its secret is configured", async () => {
    const old = await signToken({ ...base, version: 2 }, "newer");
    expect((await verifyToken(old, secretFor))?.version).toBe(2);
    expect(await verifyToken(old, (v) => (v === 1 ? SECRET : null))).toBeNull();
  });

  it("verify synchronously once this isolate has derived the domain's key, which names no domain", async () => {
    const payload = { ...base, domain: "sync-check.example" };
    const token = await signToken(payload, SECRET);
    const first = verifyTokenNow(token, secretFor);
    expect(first).toBeInstanceOf(KeyNotLoaded);
    expect(first).toEqual(new KeyNotLoaded(SECRET, await domainTagOf(SECRET, "sync-check.example"), null));
    expect(await verifyToken(token, secretFor)).toEqual(payload);
    expect(verifyTokenNow(token, secretFor)).toEqual(payload);
    const bytes = decodeBase64Url(token)!;
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x80;
    expect(verifyTokenNow(encodeBase64Url(bytes), secretFor)).toBeNull();
  });

  it("keep a domain's key only once a token proved authentic with it", async () => {
    const payload = { ...base, domain: "forged-only.example" };
    const bytes = decodeBase64Url(await signToken(payload, SECRET))!;
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    const forged = encodeBase64Url(bytes);
    expect(await verifyToken(forged, secretFor)).toBeNull();
    expect(verifyTokenNow(forged, secretFor)).toBeInstanceOf(KeyNotLoaded); // nothing was kept
  });

  it(`are signed up to ${MAX_TOKEN_CHARS} characters, which verify, and no longer`, async () => {
    // Non-ASCII URL text (2 bytes a character) reaches the cap with far fewer characters than ASCII.
    let longest: string | null = null;
    let url = "https://example.org/";
    for (;;) {
      const token = await signTokenIfFits({ ...base, url }, SECRET);
      if (token === null) break;
      longest = token;
      url += "é";
    }
    expect(longest!.length).toBeGreaterThan(MAX_TOKEN_CHARS - 3);
    expect(longest!.length).toBeLessThanOrEqual(MAX_TOKEN_CHARS);
    expect((await verifyToken(longest!, secretFor))?.url).toBe(url.slice(0, -1));
    await expect(signToken({ ...base, url }, SECRET)).rejects.toThrow(RangeError);
    // One character past the cap is refused unread, whatever it holds.
    expect(verifyTokenNow(longest! + "A".repeat(MAX_TOKEN_CHARS + 1 - longest!.length), secretFor)).toBeNull();
  });

  it("refuse fields over 255 bytes, and key versions outside 1-255, when signing", async () => {
    await expect(signToken({ ...base, messageId: "x".repeat(256) }, SECRET)).rejects.toThrow(RangeError);
    for (const version of [0, 256, 1.5]) await expect(signToken({ ...base, version }, SECRET)).rejects.toThrow(RangeError);
  });

  it("are at most 40 characters longer than the older signed-only tokens of the same link", async () => {
    for (const kind of KINDS) {
      for (let extra = 0; extra < 200; extra += 7) {
        const payload = forKind(kind, { ...base, url: `https://example.org/${"p".repeat(extra)}`, recipient: `${"r".repeat(extra % 50)}@example.org` });
        const grown = (await signToken(payload, SECRET)).length - (await signLegacyToken(payload, SECRET)).length;
        expect(grown, `${kind}, ${extra}`).toBeGreaterThan(0);
        expect(grown, `${kind}, ${extra}`).toBeLessThanOrEqual(40);
      }
    }
  });

  it("read current and retired secrets from settings", () => {
    const { currentVersion, secretFor: lookup } = secretsFromSettings({
      TRACKING_SECRET: "now",
      TRACKING_KEY_VERSION: "3",
      TRACKING_SECRETS_PREVIOUS: "1:first, 2:second",
    });
    expect(currentVersion).toBe(3);
    expect([lookup(1), lookup(2), lookup(3), lookup(4)]).toEqual(["first", "second", "now", null]);
    expect(() => secretsFromSettings({ TRACKING_SECRET: "x", TRACKING_KEY_VERSION: "0" })).toThrow();
  });
});

describe("older signed-only tokens (links in mail sent before tokens were encrypted)", () => {
  it("are honoured, every kind and the https flag, while their version's secret is configured", async () => {
    for (const kind of KINDS) {
      for (const version of [1, 2]) {
        const payload: TokenPayload = { ...forKind(kind), version, https: true };
        const token = await signLegacyToken(payload, secretFor(version)!);
        expect(await verifyToken(token, secretFor)).toEqual(payload);
        const plain = { ...forKind(kind), version };
        expect(await verifyToken(await signLegacyToken(plain, secretFor(version)!), secretFor)).toEqual(plain);
      }
    }
  });

  it("are refused once their version is retired, or under another secret", async () => {
    const token = await signLegacyToken({ ...base, version: 2 }, "newer");
    expect(await verifyToken(token, secretFor)).not.toBeNull();
    expect(await verifyToken(token, (v) => (v === 1 ? SECRET : null))).toBeNull();
    expect(await verifyToken(await signLegacyToken(base, "other"), secretFor)).toBeNull();
  });

  it("refuse every one-byte change, at every byte", async () => {
    const token = await signLegacyToken({ ...base, https: true }, SECRET);
    expect(await verifyToken(token, secretFor)).not.toBeNull();
    for (const changed of oneByteChanges(token)) expect(await verifyToken(changed, secretFor), changed).toBeNull();
  });

  it("verify synchronously once this isolate has their domain's key", async () => {
    const payload = { ...base, domain: "legacy-sync.example" };
    const token = await signLegacyToken(payload, SECRET);
    expect(verifyTokenNow(token, secretFor)).toEqual(new KeyNotLoaded(SECRET, null, "legacy-sync.example"));
    expect(await verifyToken(token, secretFor)).toEqual(payload);
    expect(verifyTokenNow(token, secretFor)).toEqual(payload);
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
