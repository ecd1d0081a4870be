// The AEAD sealed tokens use (AES-256-GCM, WebCrypto) checked in this runtime against a published
// vector and against an independent audited implementation (@noble/ciphers, a dev dependency), and
// the token keys' derivation (WebCrypto) stated independently with @noble/hashes.
import { gcm } from "@noble/ciphers/aes.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url } from "../../src/domain/base64url";
import { signToken, type TokenPayload, verifyToken } from "../../src/domain/token";
import { domainKeyBytes, domainTagOf, keyEpochOf, sealingKeyInfo } from "../../src/domain/token-keys";

const hex = (bytes: Uint8Array) => bytes.toHex();
const fromHex = (text: string) => Uint8Array.fromHex(text.replace(/\s+/g, ""));
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("AES-256-GCM of WebCrypto", () => {
  it("matches the GCM specification's test case 16 (256-bit key, associated data), and refuses it with any bit changed", async () => {
    const key = await crypto.subtle.importKey("raw", fromHex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"), "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    const iv = fromHex("cafebabefacedbaddecaf888");
    const aad = fromHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const plaintext = fromHex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
      1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`);
    const sealed = fromHex(`522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
      8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662 76fc6ece0f4e1768cddf8853bb2d551b`);
    const params = { name: "AES-GCM", iv, additionalData: aad, tagLength: 128 };
    expect(hex(new Uint8Array(await crypto.subtle.encrypt(params, key, plaintext)))).toBe(hex(sealed));
    expect(new Uint8Array(await crypto.subtle.decrypt(params, key, sealed))).toEqual(plaintext);
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice();
      changed[i] = changed[i]! ^ 0x01;
      await expect(crypto.subtle.decrypt(params, key, changed), `byte ${i}`).rejects.toThrow();
    }
    const otherAad = aad.slice();
    otherAad[0] = otherAad[0]! ^ 0x01;
    await expect(crypto.subtle.decrypt({ ...params, additionalData: otherAad }, key, sealed)).rejects.toThrow();
  });
});

const SECRET = "s3cret";
const payload: TokenPayload = {
  kind: "click",
  version: 1,
  issuedAt: 1_780_000_000,
  webPrefix: "email",
  domain: "mg.example.com",
  messageId: "20260529.1@mg.example.com",
  recipient: "bob@example.org",
  url: "https://example.org/landing?utm_source=newsletter",
};

/** The sealing key of a domain and epoch, stated with @noble/hashes as docs/storage.md says. */
function statedSealingKey(secret: string, domain: string, epoch: number): Uint8Array {
  const tag = hmac(sha256, utf8(secret), utf8(`tidings/token-domain:${domain}`)).subarray(0, 4);
  const info = new Uint8Array([...utf8("tidings/token-key:"), ...tag, epoch >> 8, epoch & 0xff]);
  return hkdf(sha256, utf8(secret), utf8("tidings/tracking-token"), info, 32);
}

describe("the token keys' derivation (WebCrypto), restated with @noble/hashes", () => {
  it("derives the domain tag, the sealing key of each epoch and the signed tokens' domain key as docs/storage.md says", async () => {
    for (const [secret, domain] of [
      ["s3cret", "mg.example.com"],
      ["another secret", "bücher.example"],
    ] as const) {
      const tag = hmac(sha256, utf8(secret), utf8(`tidings/token-domain:${domain}`)).subarray(0, 4);
      expect(await domainTagOf(secret, domain)).toBe(new DataView(tag.buffer, tag.byteOffset).getUint32(0));
      // The key is not extractable: a token sealed in each month opens under the key stated for that month.
      for (const iso of ["2020-01-15T00:00:00Z", "2026-11-29T18:00:00Z", "2106-01-01T00:00:00Z"]) {
        const issuedAt = Date.parse(iso) / 1000;
        const token = decodeBase64Url(await signToken({ ...payload, domain, issuedAt }, secret, "sealed"))!;
        const epoch = (token[6]! << 8) | token[7]!;
        expect(epoch, iso).toBe(keyEpochOf(issuedAt));
        const plain = gcm(statedSealingKey(secret, domain, epoch), token.subarray(8, 20), token.subarray(0, 8)).decrypt(token.subarray(20));
        expect(new DataView(plain.buffer, plain.byteOffset).getUint32(0), iso).toBe(issuedAt);
      }
      expect(hex(await domainKeyBytes(secret, domain))).toBe(hex(hmac(sha256, utf8(secret), utf8(`tidings/tracking:${domain}`))));
    }
    expect(hex(sealingKeyInfo(0x01020304, 0x0506))).toBe(hex(new Uint8Array([...utf8("tidings/token-key:"), 1, 2, 3, 4, 5, 6])));
  });

  it("counts key epochs in whole UTC months since January 2020", () => {
    const at = (iso: string) => Date.parse(iso) / 1000;
    expect(keyEpochOf(at("2020-01-01T00:00:00Z"))).toBe(0);
    expect(keyEpochOf(at("2020-01-31T23:59:59Z"))).toBe(0);
    expect(keyEpochOf(at("2020-02-01T00:00:00Z"))).toBe(1);
    expect(keyEpochOf(at("2026-11-29T18:00:00Z"))).toBe(6 * 12 + 10);
    expect(keyEpochOf(0)).toBe(0); // before 2020: the first epoch
  });
});

describe("sealed tokens against an independent AES-GCM (@noble/ciphers)", () => {
  it("open with noble's gcm under the stated key, and noble-made tokens verify", async () => {
    const token = decodeBase64Url(await signToken(payload, SECRET, "sealed"))!;
    const epoch = (token[6]! << 8) | token[7]!;
    expect(epoch).toBe(keyEpochOf(payload.issuedAt));
    const key = statedSealingKey(SECRET, payload.domain, epoch);
    const header = token.subarray(0, 8);
    const nonce = token.subarray(8, 20);
    const plain = gcm(key, nonce, header).decrypt(token.subarray(20));
    expect(new DataView(plain.buffer, plain.byteOffset).getUint32(0)).toBe(payload.issuedAt);
    expect(new TextDecoder().decode(plain.subarray(plain.length - payload.url.length))).toBe(payload.url);

    // A token sealed by noble from the same plaintext, header and a new nonce verifies at the edge's check.
    const otherNonce = crypto.getRandomValues(new Uint8Array(12));
    const made = new Uint8Array([...header, ...otherNonce, ...gcm(key, otherNonce, header).encrypt(plain)]);
    expect(await verifyToken(encodeBase64Url(made), () => SECRET)).toEqual(payload);
    // The same, sealed under the previous month's key, does not.
    const stale = statedSealingKey(SECRET, payload.domain, epoch - 1);
    const wrong = new Uint8Array([...header, ...otherNonce, ...gcm(stale, otherNonce, header).encrypt(plain)]);
    expect(await verifyToken(encodeBase64Url(wrong), () => SECRET)).toBeNull();
  });
});
