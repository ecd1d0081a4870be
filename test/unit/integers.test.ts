import { describe, expect, it } from "vitest";
import { parseIntInRange, readIntParam } from "../../src/domain/integers";

describe("parseIntInRange", () => {
  it("takes decimal digits within the bounds and nothing else", () => {
    const range = { min: 1, max: 1000 };
    expect(parseIntInRange("1", range)).toBe(1);
    expect(parseIntInRange("0100", range)).toBe(100);
    expect(parseIntInRange("1000", range)).toBe(1000);
    for (const bad of ["", "0", "1001", "1e2", "0x10", "2.0", "-1", "+5", " 5", "5 ", "Infinity", "NaN", "1e20", "9223372036854775807", "٣"]) {
      expect(parseIntInRange(bad, range), bad).toBeNull();
    }
  });
});

describe("readIntParam", () => {
  it("uses the fallback for an absent or empty value and names the parameter and bounds otherwise", () => {
    const range = { min: 0, max: 10, fallback: 3 };
    expect(readIntParam(null, "skip", range)).toBe(3);
    expect(readIntParam(undefined, "skip", range)).toBe(3);
    expect(readIntParam("", "skip", range)).toBe(3);
    expect(readIntParam("0", "skip", range)).toBe(0);
    expect(readIntParam("11", "skip", range)).toBe("'skip' must be an integer from 0 to 10");
  });
});
