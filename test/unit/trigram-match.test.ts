import { describe, expect, it } from "vitest";
import { isIndexableTerm, MAX_MATCH_TRIGRAMS, TRIGRAM_MIN_CODE_POINTS, trigramMatch, trigramsOf } from "../../src/domain/trigram-match";

describe("trigramMatch: the FTS5 query narrowing a contains-filter", () => {
  it("cuts a term into overlapping three-code-point pieces, counting code points, not UTF-16 units", () => {
    expect(trigramsOf("Hello")).toEqual(["Hel", "ell", "llo"]);
    expect(trigramsOf("ab")).toEqual([]);
    expect(trigramsOf("🎉ab")).toEqual(["🎉ab"]);
    expect(trigramsOf("东京湾x")).toEqual(["东京湾", "京湾x"]);
  });

  it("serves terms of 3+ code points only, and none holding NUL or a lone surrogate", () => {
    expect(TRIGRAM_MIN_CODE_POINTS).toBe(3);
    expect(isIndexableTerm("abc")).toBe(true);
    expect(isIndexableTerm("ab")).toBe(false);
    expect(isIndexableTerm("🎉🎉")).toBe(false); // four UTF-16 units, two code points
    expect(isIndexableTerm("🎉🎉🎉")).toBe(true);
    expect(isIndexableTerm("ab\u0000c")).toBe(false);
    expect(isIndexableTerm("ab\ud800c")).toBe(false);
    expect(isIndexableTerm("abc\udc00")).toBe(false);
  });

  it("ANDs the distinct trigrams of every term as FTS5 strings, doubling a quote", () => {
    expect(trigramMatch(["Hello"])).toBe('"Hel" AND "ell" AND "llo"');
    expect(trigramMatch(["aaaa"])).toBe('"aaa"');
    expect(trigramMatch(["abc", "ABC"])).toBe('"abc"'); // the tokenizer folds case, so one of them is enough
    expect(trigramMatch(['a"b'])).toBe('"a""b"');
    expect(trigramMatch(["ab", "Hello"])).toBe('"Hel" AND "ell" AND "llo"');
    expect(trigramMatch(["ab", "x"])).toBeNull();
    expect(trigramMatch([])).toBeNull();
  });

  it("keeps at most MAX_MATCH_TRIGRAMS, spread along each term with both of its ends", () => {
    const long = "abcdefghijklmnopqrstuvwxyz0123456789";
    const match = trigramMatch([long])!;
    const pieces = match.split(" AND ");
    expect(pieces).toHaveLength(MAX_MATCH_TRIGRAMS);
    expect(pieces[0]).toBe('"abc"');
    expect(pieces.at(-1)).toBe('"789"');
    const many = trigramMatch(Array.from({ length: 40 }, (_, i) => `term${i}x`))!.split(" AND ");
    expect(many.length).toBeLessThanOrEqual(MAX_MATCH_TRIGRAMS);
    expect(many[0]).toBe('"ter"');
  });
});
