// The panel's dates (src/panel/time.ts) and the charts' axis labels (src/panel/charts.ts): pure.
import { describe, expect, it } from "vitest";
import { labelledIndexes } from "../../src/panel/charts";
import { formatApiDate, formatInstant, fromDateTimeLocal, isTimeZone, timeZoneChoices, timeZoneOr, toDateTimeLocal } from "../../src/panel/time";

describe("panel time", () => {
  it("writes one format, in UTC or in a zone with its offset", () => {
    const ms = Date.UTC(2026, 10, 26, 9, 14, 3);
    expect(formatInstant(ms, "UTC")).toBe("2026-11-26 09:14:03 UTC");
    expect(formatInstant(ms, "Asia/Tokyo")).toBe("2026-11-26 18:14:03 GMT+9");
    expect(formatInstant(ms, "Asia/Kolkata")).toBe("2026-11-26 14:44:03 GMT+5:30");
    expect(formatInstant(ms, "Europe/London")).toBe("2026-11-26 09:14:03 GMT+0");
    expect(formatApiDate("Thu, 26 Nov 2026 09:14:03 GMT", "UTC")).toBe("2026-11-26 09:14:03 UTC");
    expect(formatApiDate("2026-11-26T09:14:03", "UTC")).toBe("2026-11-26 09:14:03 UTC");
    expect(formatApiDate(ms / 1000, "UTC")).toBe("2026-11-26 09:14:03 UTC");
    expect(formatApiDate("not a date", "UTC")).toBe("not a date");
  });

  it("reads a datetime-local field as a wall time of the zone, on both sides of a DST change", () => {
    expect(fromDateTimeLocal("2026-11-26T18:14", "Asia/Tokyo")).toBe(Date.UTC(2026, 10, 26, 9, 14));
    // Berlin: CEST (UTC+2) until 25 October 2026 03:00, CET (UTC+1) after.
    expect(fromDateTimeLocal("2026-10-24T12:00", "Europe/Berlin")).toBe(Date.UTC(2026, 9, 24, 10, 0));
    expect(fromDateTimeLocal("2026-10-26T12:00", "Europe/Berlin")).toBe(Date.UTC(2026, 9, 26, 11, 0));
    expect(fromDateTimeLocal("2026-11-26T09:14:03", "UTC")).toBe(Date.UTC(2026, 10, 26, 9, 14, 3));
    for (const bad of ["", "2026-11-26", "26/11/2026 09:14", "2026-11-26T09:14Z"]) expect(fromDateTimeLocal(bad, "UTC"), bad).toBeNull();
    expect(toDateTimeLocal(Date.UTC(2026, 10, 26, 9, 14), "Asia/Tokyo")).toBe("2026-11-26T18:14");
  });

  it("knows time zones from Intl and nothing else", () => {
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    for (const bad of ["", "Mars/Olympus_Mons", "+02:00", "Europe/Berlin; Path=/", "x".repeat(100), "constructor"]) expect(isTimeZone(bad), bad).toBe(false);
    expect(timeZoneOr("Nowhere/Land")).toBe("UTC");
    expect(timeZoneOr(undefined)).toBe("UTC");
    const choices = timeZoneChoices();
    expect(choices[0]).toBe("UTC");
    expect(choices).toContain("Asia/Tokyo");
  });
});

describe("chart axis labels", () => {
  it("label about six buckets, always the last", () => {
    expect(labelledIndexes(0)).toEqual([]);
    expect(labelledIndexes(1)).toEqual([0]);
    expect(labelledIndexes(7)).toEqual([0, 2, 4, 6]);
    expect(labelledIndexes(8)).toEqual([0, 2, 4, 7]);
    expect(labelledIndexes(24)).toEqual([0, 4, 8, 12, 16, 20, 23]);
    expect(labelledIndexes(31).at(-1)).toBe(30);
    for (let n = 1; n < 200; n++) {
      const picked = labelledIndexes(n);
      expect(picked.at(-1), String(n)).toBe(n - 1);
      expect(picked.length, String(n)).toBeLessThanOrEqual(7);
    }
  });
});
