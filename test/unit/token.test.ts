import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url } from "../../src/domain/base64url";
import { KeyNotLoaded, MAX_TOKEN_CHARS, secretsFromSettings, signToken, signTokenIfFits, verifyToken, verifyTokenNow, type TokenPayload } from "../../src/domain/token";

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

describe("tracking tokens", () => {
  it("round-trips every field and is URL-safe", async () => {
    const token = await signToken(base, SECRET);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(await verifyToken(token, secretFor)).toEqual(base);
  });

  it("carries no URL for opens and unsubscribes", async () => {
    for (const kind of ["open", "unsubscribe", "tag-unsubscribe"] as const) {
      const payload = { ...base, kind, url: "" };
      expect(await verifyToken(await signToken(payload, SECRET), secretFor)).toEqual(payload);
    }
  });

  it("rejects every single-byte change", async () => {
    const bytes = decodeBase64Url(await signToken(base, SECRET))!;
    for (let i = 0; i < bytes.length; i++) {
      const tampered = bytes.slice();
      tampered[i] = tampered[i]! ^ 0x01;
      expect(await verifyToken(encodeBase64Url(tampered), secretFor)).toBeNull();
    }
  });

  it("rejects truncated tokens and garbage", async () => {
    const token = await signToken(base, SECRET);
    for (let cut = 1; cut < token.length; cut += 7) expect(await verifyToken(token.slice(0, token.length - cut), secretFor)).toBeNull();
    for (const junk of ["", "x", "!!!!", "a/b", "A".repeat(5000)]) expect(await verifyToken(junk, secretFor)).toBeNull();
  });

  it("rejects a token signed with another secret or for another domain", async () => {
    expect(await verifyToken(await signToken(base, "other"), secretFor)).toBeNull();
    // Same secret, but the payload's domain is swapped after signing: the derived key differs.
    const forged = await signToken({ ...base, domain: "evil.example" }, SECRET);
    const bytes = decodeBase64Url(forged)!;
    expect(await verifyToken(encodeBase64Url(bytes), secretFor)).not.toBeNull();
    const original = decodeBase64Url(await signToken(base, SECRET))!;
    const spliced = new Uint8Array([...bytes.subarray(0, bytes.length - 16), ...original.subarray(original.length - 16)]);
    expect(await verifyToken(encodeBase64Url(spliced), secretFor)).toBeNull();
  });

  it("honours older key versions only while their secret is configured", async () => {
    const old = await signToken({ ...base, version: 2 }, "newer");
    expect((await verifyToken(old, secretFor))?.version).toBe(2);
    expect(await verifyToken(old, (v) => (v === 1 ? SECRET : null))).toBeNull();
  });

  it("verifies synchronously once this isolate has derived the domain's key", async () => {
    const payload = { ...base, domain: "sync-check.example" };
    const token = await signToken(payload, SECRET);
    const first = verifyTokenNow(token, secretFor);
    expect(first).toBeInstanceOf(KeyNotLoaded);
    expect(first).toMatchObject({ secret: SECRET, domain: "sync-check.example" });
    expect(await verifyToken(token, secretFor)).toEqual(payload);
    expect(verifyTokenNow(token, secretFor)).toEqual(payload);
    const bytes = decodeBase64Url(token)!;
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x80;
    expect(verifyTokenNow(encodeBase64Url(bytes), secretFor)).toBeNull();
  });

  it("keeps a domain's key only once a token proved authentic with it", async () => {
    const payload = { ...base, domain: "forged-only.example" };
    const bytes = decodeBase64Url(await signToken(payload, SECRET))!;
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    const forged = encodeBase64Url(bytes);
    expect(await verifyToken(forged, secretFor)).toBeNull();
    expect(verifyTokenNow(forged, secretFor)).toBeInstanceOf(KeyNotLoaded); // nothing was kept
  });

  it(`signs tokens of up to ${MAX_TOKEN_CHARS} characters, which verify, and no longer one`, async () => {
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

  it("refuses fields over 255 bytes when signing", async () => {
    await expect(signToken({ ...base, messageId: "x".repeat(256) }, SECRET)).rejects.toThrow(RangeError);
  });

  it("reads current and retired secrets from settings", () => {
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

describe("base64url decoding", () => {
  it("gives the same bytes, and the same refusals, natively and in plain JavaScript", async () => {
    const { decodeBase64Url, decodeBase64UrlInto, decodeBase64UrlPortable, encodeBase64Url } = await import("../../src/domain/base64url");
    const out = new Uint8Array(64);
    for (let length = 0; length < 70; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const text = encodeBase64Url(bytes);
      expect(decodeBase64Url(text)).toEqual(bytes);
      expect(decodeBase64UrlPortable(text)).toEqual(bytes);
      const written = decodeBase64UrlInto(text, out);
      if (length <= out.length) expect(out.slice(0, written)).toEqual(bytes);
      else expect(written, "too long for the buffer").toBe(-1);
    }
    for (const bad of ["a", "ab cd", "ab+d", "ab/d", "é", "abcde", "ab\u0141d", "abc\u00c1"]) {
      expect(decodeBase64Url(bad), bad).toBeNull();
      expect(decodeBase64UrlPortable(bad), bad).toBeNull();
      expect(decodeBase64UrlInto(bad, out), bad).toBe(-1);
    }
  });
});
