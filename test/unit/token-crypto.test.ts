// The audited libraries the tokens use (@noble/ciphers, @noble/hashes), checked in this runtime
// against WebCrypto and published vectors, and the token keys' derivation stated independently.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { domainTagOf, legacyKeyBytes, sealingKeyOf } from "../../src/domain/token-keys";

const hex = (bytes: Uint8Array) => bytes.toHex();
const fromHex = (text: string) => Uint8Array.fromHex(text.replace(/\s+/g, ""));
const utf8 = (text: string) => new TextEncoder().encode(text);

async function webCryptoHmac(key: Uint8Array, data: Uint8Array): Promise<string> {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(new Uint8Array(await crypto.subtle.sign("HMAC", imported, data)));
}

describe("HMAC-SHA256 of @noble/hashes", () => {
  it("matches the RFC 4231 vectors", () => {
    // Section 4: test cases 1, 2, 6 and 7 (5 truncates the output).
    const vectors: Array<[key: Uint8Array, data: Uint8Array, mac: string]> = [
      [fromHex("0b".repeat(20)), utf8("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
      [utf8("Jefe"), utf8("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
      [fromHex("aa".repeat(131)), utf8("Test Using Larger Than Block-Size Key - Hash Key First"), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
      [
        fromHex("aa".repeat(131)),
        utf8("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
      ],
    ];
    for (const [key, data, mac] of vectors) expect(hex(hmac(sha256, key, data))).toBe(mac);
  });

  it("agrees with WebCrypto for every message length across block boundaries, and key lengths around the block size, keyed once and cloned", async () => {
    for (const keyLength of [1, 32, 63, 64, 65, 100]) {
      const key = crypto.getRandomValues(new Uint8Array(keyLength));
      const keyed = hmac.create(sha256, key); // as the edge keeps a domain's key for older tokens
      for (let length = 0; length <= 200; length++) {
        const data = crypto.getRandomValues(new Uint8Array(length));
        expect(hex(keyed.clone().update(data).digest()), `key ${keyLength} bytes, data ${length} bytes`).toBe(await webCryptoHmac(key, data));
      }
    }
  });
});

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

describe("the token keys' derivation (WebCrypto), restated with @noble/hashes", () => {
  it("derives the domain tag, the sealing key and the older tokens' domain key as docs/storage.md says", async () => {
    for (const [secret, domain] of [["s3cret", "mg.example.com"], ["another secret", "bücher.example"]] as const) {
      const tag = hmac(sha256, utf8(secret), utf8(`tidings/token-domain:${domain}`)).subarray(0, 4);
      expect(await domainTagOf(secret, domain)).toBe(new DataView(tag.buffer, tag.byteOffset).getUint32(0));
      const info = new Uint8Array([...utf8("tidings/token-key:"), ...tag]);
      const key = hkdf(sha256, utf8(secret), utf8("tidings/tracking-token"), info, 32);
      expect(hex(await sealingKeyOf(secret, await domainTagOf(secret, domain)))).toBe(hex(key));
      expect(hex(await legacyKeyBytes(secret, domain))).toBe(hex(hmac(sha256, utf8(secret), utf8(`tidings/tracking:${domain}`))));
    }
  });
});
