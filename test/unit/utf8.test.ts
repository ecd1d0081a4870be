import { describe, expect, it } from "vitest";
import { fitsUtf8Bytes, utf8ByteLength } from "../../src/domain/utf8";

describe("utf8ByteLength", () => {
  it("counts what TextEncoder writes, without encoding", () => {
    for (const text of ["", "abc", "é", "€", "😀", "a😀é€", "\ud800", "x\udc00y", "\ud83d\ud83d", "é".repeat(1000)]) {
      expect(utf8ByteLength(text), JSON.stringify(text)).toBe(new TextEncoder().encode(text).length);
    }
  });

  it("fits a limit counted in bytes, not characters", () => {
    expect(fitsUtf8Bytes("é".repeat(160), 320)).toBe(true);
    expect(fitsUtf8Bytes("é".repeat(161), 320)).toBe(false);
    expect(fitsUtf8Bytes("a".repeat(321), 320)).toBe(false);
  });
});
