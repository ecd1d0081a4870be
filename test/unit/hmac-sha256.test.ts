import { describe, expect, it } from "vitest";
import { hmacSha256, hmacSha256Key, hmacSha256Words, sha256 } from "../../src/domain/hmac-sha256";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
const utf8 = (text: string) => new TextEncoder().encode(text);

async function webCryptoHmac(key: Uint8Array, data: Uint8Array): Promise<string> {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(new Uint8Array(await crypto.subtle.sign("HMAC", imported, data)));
}

describe("HMAC-SHA256 in JavaScript", () => {
  // RFC 4231, section 4: test cases 1, 2, 3, 4, 6 and 7 (5 truncates the output).
  const vectors: Array<[key: Uint8Array, data: Uint8Array, mac: string]> = [
    [fromHex("0b".repeat(20)), utf8("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    [utf8("Jefe"), utf8("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    [fromHex("aa".repeat(20)), fromHex("dd".repeat(50)), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
    [
      fromHex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
      fromHex("cd".repeat(50)),
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ],
    [
      fromHex("aa".repeat(131)),
      utf8("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      fromHex("aa".repeat(131)),
      utf8("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];

  it("matches the RFC 4231 vectors", () => {
    for (const [key, data, mac] of vectors) expect(hex(hmacSha256(hmacSha256Key(key), data))).toBe(mac);
  });

  it("matches SHA-256 of the FIPS 180-4 examples", () => {
    expect(hex(sha256(utf8("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(sha256(new Uint8Array(0)))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(sha256(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("agrees with WebCrypto for every message length across block boundaries, and key lengths around the block size", async () => {
    for (const keyLength of [1, 16, 32, 63, 64, 65, 100]) {
      const key = crypto.getRandomValues(new Uint8Array(keyLength));
      const prepared = hmacSha256Key(key);
      for (let length = 0; length <= 300; length++) {
        const data = crypto.getRandomValues(new Uint8Array(length));
        expect(hex(hmacSha256(prepared, data)), `key ${keyLength} bytes, data ${length} bytes`).toBe(await webCryptoHmac(key, data));
      }
    }
  });

  it("hashes only the first `length` bytes, as the token check needs", async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const data = crypto.getRandomValues(new Uint8Array(120));
    const words = hmacSha256Words(hmacSha256Key(key), data, 100);
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 8; i++) new DataView(bytes.buffer).setInt32(i * 4, words[i]!);
    expect(hex(bytes)).toBe(await webCryptoHmac(key, data.subarray(0, 100)));
  });
});
