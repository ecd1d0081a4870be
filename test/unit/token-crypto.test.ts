// The audited AEAD sealed tokens use (@noble/ciphers), checked in this runtime against its published
// vector, and the token keys' derivation (WebCrypto) stated independently with hmac-sha256.ts (itself
// checked against WebCrypto and RFC 4231 in hmac-sha256.test.ts).
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { describe, expect, it } from "vitest";
import { hmacSha256, hmacSha256Key } from "../../src/domain/hmac-sha256";
import { domainKeyBytes, domainTagOf, sealingKeyOf } from "../../src/domain/token-keys";

const hex = (bytes: Uint8Array) => bytes.toHex();
const fromHex = (text: string) => Uint8Array.fromHex(text.replace(/\s+/g, ""));
const utf8 = (text: string) => new TextEncoder().encode(text);

const hmac = (key: Uint8Array, data: Uint8Array) => hmacSha256(hmacSha256Key(key), data);

/** HKDF-SHA256 (RFC 5869, section 2) for up to 32 bytes: extract, then one block of expand. */
function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const prk = hmac(salt, ikm);
  return hmac(prk, new Uint8Array([...info, 1])).slice(0, length);
}

describe("XChaCha20-Poly1305 of @noble/ciphers", () => {
  it("matches draft-irtf-cfrg-xchacha, A.3.1, and refuses the vector with any bit changed", () => {
    const key = fromHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    const nonce = fromHex("404142434445464748494a4b4c4d4e4f5051525354555657");
    const aad = fromHex("50515253c0c1c2c3c4c5c6c7");
    const plaintext = utf8("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const sealed = fromHex(`bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
      731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
      2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
      21f9664c97637da9768812f615c68b13b52e c0875924c1c7987947deafd8780acf49`);
    expect(hex(xchacha20poly1305(key, nonce, aad).encrypt(plaintext))).toBe(hex(sealed));
    expect(xchacha20poly1305(key, nonce, aad).decrypt(sealed)).toEqual(plaintext);
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice();
      changed[i] = changed[i]! ^ 0x01;
      expect(() => xchacha20poly1305(key, nonce, aad).decrypt(changed), `byte ${i}`).toThrow();
    }
    const otherAad = aad.slice();
    otherAad[0] = otherAad[0]! ^ 0x01;
    expect(() => xchacha20poly1305(key, nonce, otherAad).decrypt(sealed)).toThrow();
  });
});

describe("the token keys' derivation (WebCrypto), restated", () => {
  it("derives the domain tag, the sealing key and the signed tokens' domain key as docs/storage.md says", async () => {
    for (const [secret, domain] of [["s3cret", "mg.example.com"], ["another secret", "bücher.example"]] as const) {
      const tag = hmac(utf8(secret), utf8(`tidings/token-domain:${domain}`)).subarray(0, 4);
      expect(await domainTagOf(secret, domain)).toBe(new DataView(tag.buffer, tag.byteOffset).getUint32(0));
      const info = new Uint8Array([...utf8("tidings/token-key:"), ...tag]);
      const key = hkdf(utf8(secret), utf8("tidings/tracking-token"), info, 32);
      expect(hex(await sealingKeyOf(secret, await domainTagOf(secret, domain)))).toBe(hex(key));
      expect(hex(await domainKeyBytes(secret, domain))).toBe(hex(hmac(utf8(secret), utf8(`tidings/tracking:${domain}`))));
    }
  });
});
