import { describe, expect, it } from "vitest";
import { computeMetrics, isMetric } from "../../src/domain/metrics";
import { zeroCounts } from "../../src/domain/stats-counters";
import { parseStatsEvents, parseStatsRange, StatsQueryError } from "../../src/domain/stats-query";
import { shapeStats } from "../../src/domain/stats-shape";
import {
  addMonths,
  bucketStart,
  bucketsBetween,
  countBuckets,
  formatStatsDate,
  formatTagDate,
  parseDuration,
  rollupCutoffs,
} from "../../src/domain/stats-time";

const T = (...args: [number, number, number, number?]) => Date.UTC(args[0], args[1], args[2], args[3] ?? 0) / 1000;
const NOW = T(2026, 10, 26, 9) + 1234;

describe("durations and calendar arithmetic", () => {
  it("parses [0-9]+[hdm] and nothing else", () => {
    expect(parseDuration("24h")).toEqual({ amount: 24, unit: "h" });
    expect(parseDuration("7d")).toEqual({ amount: 7, unit: "d" });
    expect(parseDuration("1m")).toEqual({ amount: 1, unit: "m" });
    for (const bad of ["", "7", "d", "7w", "-1d", "1.5d", "7 d"]) expect(parseDuration(bad), bad).toBeNull();
  });

  it("adds calendar months in UTC, clamping the day", () => {
    expect(addMonths(T(2026, 2, 31), -1)).toBe(T(2026, 1, 28));
    expect(addMonths(T(2026, 0, 15, 5), 12)).toBe(T(2027, 0, 15, 5));
    expect(addMonths(T(2026, 0, 15), -2)).toBe(T(2025, 10, 15));
  });

  it("buckets by hour, day and month, inclusive of the end's bucket", () => {
    expect(bucketStart(NOW, "hour")).toBe(T(2026, 10, 26, 9));
    expect(bucketStart(NOW, "day")).toBe(T(2026, 10, 26));
    expect(bucketStart(NOW, "month")).toBe(T(2026, 10, 1));
    expect(bucketsBetween(T(2026, 10, 24, 12), T(2026, 10, 26), "day")).toEqual([T(2026, 10, 24), T(2026, 10, 25), T(2026, 10, 26)]);
    expect(bucketsBetween(T(2026, 9, 31), T(2026, 11, 1), "month")).toEqual([T(2026, 9, 1), T(2026, 10, 1), T(2026, 11, 1)]);
  });

  it("keeps hourly rollups 2 months, daily ones a year and the seen-set 45 days", () => {
    expect(rollupCutoffs(NOW)).toEqual({ hourly: T(2026, 8, 26, 9), daily: T(2025, 10, 26), seen: NOW - 45 * 86_400 });
  });

  it("writes Mailgun's date forms", () => {
    expect(formatStatsDate(T(2012, 1, 14))).toBe("Tue, 14 Feb 2012 00:00:00 UTC");
    expect(formatTagDate(Date.UTC(2023, 0, 2, 2, 14, 27, 500))).toBe("2023-01-02 02:14:27 +0000 UTC");
  });
});

describe("parseStatsRange", () => {
  it("defaults to the last 7 days by day", () => {
    const range = parseStatsRange({}, NOW);
    expect(range).toMatchObject({ start: NOW - 7 * 86400, end: NOW, resolution: "day" });
    expect(range.buckets).toHaveLength(8);
  });

  it("takes RFC 2822 and epoch dates, and a duration counted back from end that overrides start", () => {
    const range = parseStatsRange({ start: "Mon, 01 Jan 2024 00:00:00 +0000", end: String(T(2024, 0, 3)), resolution: "hour" }, NOW);
    expect(range).toMatchObject({ start: T(2024, 0, 1), end: T(2024, 0, 3), resolution: "hour" });
    expect(range.buckets).toHaveLength(49);
    const byDuration = parseStatsRange({ start: "1", duration: "24h" }, NOW);
    expect(byDuration).toMatchObject({ start: NOW - 86400, resolution: "hour" });
    expect(parseStatsRange({ duration: "2m" }, NOW)).toMatchObject({ start: addMonths(NOW, -2), resolution: "month" });
    expect(parseStatsRange({ duration: "24h", resolution: "day" }, NOW).resolution).toBe("day");
  });

  it("counts a range's buckets by arithmetic, as many as bucketsBetween builds", () => {
    for (const [start, end, resolution] of [
      [T(2026, 10, 24, 12) + 59, T(2026, 10, 26, 3), "hour"],
      [T(2026, 10, 24, 12), T(2026, 10, 26), "day"],
      [T(2024, 0, 31), T(2026, 2, 1), "month"],
      [NOW, NOW, "hour"],
    ] as const) {
      expect(countBuckets(start, end, resolution), `${start} ${end} ${resolution}`).toBe(bucketsBetween(start, end, resolution).length);
    }
    // Year 100 to year 6000, hourly: 51,718,321 buckets counted without building one.
    expect(countBuckets(T(100, 0, 1), T(6000, 0, 1), "hour")).toBe(51_718_321);
    expect(countBuckets(T(100, 0, 1), T(6000, 0, 1), "month")).toBe(5900 * 12 + 1);
  });

  it("refuses a range of more than 3,000 buckets before building any, saying how many it holds", () => {
    const huge = { start: "Fri, 01 Jan 0100 00:00:00 +0000", end: "Sat, 01 Jan 6000 00:00:00 +0000", resolution: "hour" };
    expect(() => parseStatsRange(huge, NOW)).toThrow(
      new StatsQueryError("The range holds 51718321 hours, more than 3000: narrow it or use a coarser resolution"),
    );
    expect(() => parseStatsRange({ duration: "999999m" }, NOW)).toThrow(
      new StatsQueryError("The range holds 1000000 months, more than 3000: narrow it or use a coarser resolution"),
    );
    expect(parseStatsRange({ start: String(NOW - 2999 * 3600), resolution: "hour" }, NOW).buckets).toHaveLength(3000);
    expect(() => parseStatsRange({ start: String(NOW - 3000 * 3600), resolution: "hour" }, NOW)).toThrow("The range holds 3001 hours, more than 3000");
  });

  it("refuses bad input with a message", () => {
    for (const input of [
      { start: "yesterday" },
      { end: "soon" },
      { resolution: "week" },
      { duration: "7w" },
      { start: String(NOW + 10) },
      { start: "1", resolution: "hour" },
    ]) {
      expect(() => parseStatsRange(input, NOW), JSON.stringify(input)).toThrow(StatsQueryError);
    }
  });
});

describe("parseStatsEvents", () => {
  it("takes repeated and comma-joined values, and requires one", () => {
    expect(parseStatsEvents(["accepted", "delivered,opened"])).toEqual(["accepted", "delivered", "opened"]);
    expect(() => parseStatsEvents([])).toThrow("Missing mandatory parameter: event");
    expect(() => parseStatsEvents(["bounced"])).toThrow(StatsQueryError);
  });
});

describe("shapeStats", () => {
  it("answers Mailgun's nested shape per bucket, zero-filled, requested events only", () => {
    const counts = {
      ...zeroCounts(),
      accepted_outgoing: 3,
      delivered_smtp: 2,
      opened: 5,
      opened_unique: 2,
      failed_permanent: 2,
      failed_permanent_suppress_bounce: 1,
      failed_permanent_old: 1,
      failed_temporary: 1,
    };
    const buckets = [T(2026, 10, 25), T(2026, 10, 26)];
    const items = shapeStats([{ ...counts, bucket: T(2026, 10, 26) }], buckets, "day", ["accepted", "delivered", "failed", "opened", "clicked"]);
    expect(items[0]).toMatchObject({ time: "Wed, 25 Nov 2026 00:00:00 UTC", accepted: { total: 0 }, opened: { total: 0, unique: 0 } });
    expect(items[1]).toEqual({
      time: "Thu, 26 Nov 2026 00:00:00 UTC",
      accepted: { incoming: 0, outgoing: 3, total: 3 },
      delivered: { smtp: 2, http: 0, optimized: 0, total: 2 },
      failed: {
        temporary: { espblock: 0, total: 1 },
        permanent: {
          bounce: 0,
          "delayed-bounce": 0,
          "suppress-bounce": 1,
          "suppress-unsubscribe": 0,
          "suppress-complaint": 0,
          webhook: 0,
          optimized: 0,
          total: 2,
        },
      },
      opened: { total: 5, unique: 2 },
      clicked: { total: 0, unique: 0 },
    });
    expect(Object.keys(shapeStats([], buckets, "day", ["complained"])[0]!)).toEqual(["time", "complained"]);
  });

  it("folds daily rows into months", () => {
    const rows = [T(2026, 9, 3), T(2026, 9, 30), T(2026, 10, 1)].map((bucket) => ({ ...zeroCounts(), complained: 1, bucket }));
    const items = shapeStats(rows, [T(2026, 9, 1), T(2026, 10, 1)], "month", ["complained"]);
    expect(items.map((i) => i.complained)).toEqual([{ total: 2 }, { total: 1 }]);
  });
});

describe("metrics", () => {
  it("computes counts and four-decimal rates, 0 on an empty base", () => {
    const counts = { ...zeroCounts(), accepted_outgoing: 4, delivered_smtp: 3, opened: 6, opened_unique: 2, failed_permanent: 1, failed_permanent_bounce: 1 };
    expect(
      computeMetrics(["accepted_count", "delivered_count", "unique_opened_count", "opened_rate", "unique_opened_rate", "bounce_rate", "clicked_rate"], counts),
    ).toEqual({
      accepted_count: 4,
      delivered_count: 3,
      unique_opened_count: 2,
      opened_rate: "2.0000",
      unique_opened_rate: "0.6667",
      bounce_rate: "0.2500",
      clicked_rate: "0.0000",
    });
    expect(computeMetrics(["delivered_rate"], zeroCounts())).toEqual({ delivered_rate: "0.0000" });
    expect(isMetric("opened_count")).toBe(true);
    expect(isMetric("ip_count")).toBe(false);
  });
});
