import { describe, expect, it } from "vitest";
import { decodeBase64Url, decodeJsonBase64Url, encodeBase64Url, encodeJsonBase64Url, randomId } from "../../src/domain/base64url";
import { type Cursor, decodeCursor, type EventQuery, encodeCursor } from "../../src/domain/cursor";

const query: EventQuery = {
  domain: "mg.example.com",
  lo: 1_700_000_000_000_000,
  hi: null,
  ascending: true,
  limit: 300,
  filters: { event: ["delivered OR failed"], subject: ['"Hello there" NOT Rachel', ">?>?"] },
};

/** Standard (not URL-safe) base64 of a string's UTF-8, to show a case would have needed escaping. */
const standardBase64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

describe("base64url", () => {
  it("round-trips every length and every byte value", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let length = 0; length <= 40; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      expect(decodeBase64Url(encodeBase64Url(bytes))).toEqual(bytes);
    }
    expect(decodeBase64Url(encodeBase64Url(all))).toEqual(all);
  });

  it("uses - and _ instead of + and /, and no padding", () => {
    expect(encodeBase64Url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(encodeBase64Url(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe("-_-_");
    expect(encodeBase64Url(new Uint8Array([1]))).toBe("AQ");
    expect(encodeBase64Url(new Uint8Array([]))).toBe("");
    expect(decodeBase64Url("-_8")).toEqual(new Uint8Array([0xfb, 0xff]));
  });

  it("refuses standard-alphabet characters, padding, bad lengths and junk", () => {
    for (const bad of ["+_8", "/w", "AQ==", "AQ=", "A", "AAAAA", "a b", "ab\n", "é", "%41"]) {
      expect(decodeBase64Url(bad), bad).toBeNull();
    }
  });

  it("decodes JSON, and gives undefined for bytes that are not UTF-8 JSON", () => {
    const value = { a: [1, "é", null], b: "?>?" };
    expect(decodeJsonBase64Url(encodeJsonBase64Url(value))).toEqual(value);
    expect(decodeJsonBase64Url("!!")).toBeUndefined();
    expect(decodeJsonBase64Url(encodeBase64Url(new TextEncoder().encode("{not json")))).toBeUndefined();
    expect(decodeJsonBase64Url(encodeBase64Url(new Uint8Array([0x22, 0xff, 0x22])))).toBeUndefined(); // '"\xff"'
  });

  it("makes random ids of 22 URL-safe characters holding 16 bytes", () => {
    const ids = new Set(Array.from({ length: 200 }, randomId));
    expect(ids.size).toBe(200);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(decodeBase64Url(id)).toHaveLength(16);
    }
  });
});

describe("paging cursors", () => {
  it("round-trips each mode", () => {
    const cursors: Cursor[] = [
      { q: query, m: "first" },
      { q: query, m: "last" },
      { q: { ...query, lo: null, hi: 5, ascending: false, limit: 1, filters: {} }, m: "next", a: [1_700_000_000_123_456, "AbC-_xyz0123456789abcd"] },
      { q: query, m: "previous", a: [0, ""] },
    ];
    for (const cursor of cursors) expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it("produces tokens with no '/', '+' or '=' even where standard base64 would have them", () => {
    let neededEscaping = 0;
    for (let i = 0; i < 64; i++) {
      const cursor: Cursor = { q: { ...query, filters: { subject: ["?".repeat(i) + ">".repeat(i % 5)] } }, m: "first" };
      const token = encodeCursor(cursor);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(token)).toEqual(cursor);
      if (/[+/=]/.test(standardBase64(JSON.stringify(cursor)))) neededEscaping++;
    }
    expect(neededEscaping).toBeGreaterThan(0); // the loop did exercise the characters in question
  });

  it("decodes garbage to null", () => {
    for (const junk of ["", "x", "!!!!", "a/b", "a+b", "eyJ9", "A".repeat(5000), encodeJsonBase64Url(null), encodeJsonBase64Url("first")]) {
      expect(decodeCursor(junk), junk).toBeNull();
    }
  });

  it("decodes well-formed JSON of the wrong shape to null", () => {
    const valid = { q: query, m: "first" };
    const wrong: unknown[] = [
      {},
      { m: "first" },
      { q: query },
      { ...valid, m: "sideways" },
      { ...valid, q: { ...query, limit: 0 } },
      { ...valid, q: { ...query, limit: 301 } },
      { ...valid, q: { ...query, limit: 1.5 } },
      { ...valid, q: { ...query, lo: "0" } },
      { ...valid, q: { ...query, ascending: "yes" } },
      { ...valid, q: { ...query, domain: 7 } },
      { ...valid, q: { ...query, filters: { event: "delivered" } } },
      { ...valid, q: { ...query, filters: { event: [1] } } },
      { q: query, m: "next", a: ["1", "id"] },
      { q: query, m: "next", a: [1] },
      { q: query, m: "next", a: [1, "id", "extra"] },
    ];
    for (const value of wrong) expect(decodeCursor(encodeJsonBase64Url(value)), JSON.stringify(value)).toBeNull();
    expect(decodeCursor(encodeJsonBase64Url(valid))).toEqual(valid); // the base of every case above is itself valid
  });

  it("needs an anchor for next and previous, and refuses one for first and last", () => {
    for (const m of ["next", "previous"]) {
      expect(decodeCursor(encodeJsonBase64Url({ q: query, m }))).toBeNull();
      expect(decodeCursor(encodeJsonBase64Url({ q: query, m, a: [1, "id"] }))).not.toBeNull();
    }
    for (const m of ["first", "last"]) {
      expect(decodeCursor(encodeJsonBase64Url({ q: query, m, a: [1, "id"] }))).toBeNull();
      expect(decodeCursor(encodeJsonBase64Url({ q: query, m }))).not.toBeNull();
    }
  });
});
