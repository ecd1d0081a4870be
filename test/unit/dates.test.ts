import { describe, expect, it } from "vitest";
import { formatRfc1123, parseMailgunDate } from "../../src/domain/dates";

/** 2011-10-13 18:02:00 UTC, Mailgun's documentation example, in microseconds. */
const EXAMPLE_US = Date.UTC(2011, 9, 13, 18, 2, 0) * 1000;

describe("parseMailgunDate", () => {
  it("reads an RFC 2822 date to microseconds", () => {
    expect(parseMailgunDate("Thu, 13 Oct 2011 18:02:00 GMT")).toBe(EXAMPLE_US);
    expect(parseMailgunDate("Thu, 13 Oct 2011 18:02:00 +0000")).toBe(EXAMPLE_US);
    expect(parseMailgunDate("13 Oct 2011 18:02:00 GMT")).toBe(EXAMPLE_US); // the weekday is optional
  });

  it("applies the zone offset", () => {
    expect(parseMailgunDate("Thu, 13 Oct 2011 20:02:00 +0200")).toBe(EXAMPLE_US);
    expect(parseMailgunDate("Thu, 13 Oct 2011 13:02:00 -0500")).toBe(EXAMPLE_US);
  });

  it("reads epoch seconds, integer or fractional, to microseconds", () => {
    expect(parseMailgunDate("2011")).toBe(2011_000_000); // digits alone are seconds, never a year
    expect(parseMailgunDate("1318528920")).toBe(EXAMPLE_US);
    expect(parseMailgunDate("1318528920.5")).toBe(EXAMPLE_US + 500_000);
    expect(parseMailgunDate("1318528920.000001")).toBe(EXAMPLE_US + 1);
    expect(parseMailgunDate("0")).toBe(0);
  });

  it("trims surrounding whitespace", () => {
    expect(parseMailgunDate("  1318528920\n")).toBe(EXAMPLE_US);
    expect(parseMailgunDate(" Thu, 13 Oct 2011 18:02:00 GMT ")).toBe(EXAMPLE_US);
  });

  it("reads an ISO 8601 date too", () => {
    expect(parseMailgunDate("2011-10-13T18:02:00Z")).toBe(EXAMPLE_US);
    expect(parseMailgunDate("2011-10-13T18:02:00.250Z")).toBe(EXAMPLE_US + 250_000);
  });

  it("gives null for empty input and for words Date.parse would still accept", () => {
    for (const bad of ["", "   ", "tomorrow", "now", "Oct 2011", "1/2/2011", "-5", "1e9", "0x10", "12abc", "1318528920.", ".5"]) {
      expect(parseMailgunDate(bad), bad).toBeNull();
    }
  });

  it("gives null for a date-shaped string that is not a date", () => {
    expect(parseMailgunDate("13 Foo 2011 18:02:00 GMT")).toBeNull();
    expect(parseMailgunDate("2011-13-45T99:00:00Z")).toBeNull();
  });
});

describe("formatRfc1123", () => {
  it("formats milliseconds the way Mailgun writes created_at", () => {
    expect(formatRfc1123(EXAMPLE_US / 1000)).toBe("Thu, 13 Oct 2011 18:02:00 GMT");
    expect(formatRfc1123(0)).toBe("Thu, 01 Jan 1970 00:00:00 GMT");
  });

  it("round-trips through parseMailgunDate at whole-second precision", () => {
    const millis = Date.UTC(2025, 0, 31, 23, 59, 59);
    expect(parseMailgunDate(formatRfc1123(millis))).toBe(millis * 1000);
    expect(parseMailgunDate(formatRfc1123(millis + 999))).toBe(millis * 1000);
  });
});
