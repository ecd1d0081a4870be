// Time for the Stats and Metrics APIs: durations ("7d", "24h", "1m"), resolutions, UTC buckets,
// and Mailgun's RFC 2822 "UTC" dates. Pure; no bindings.

export type Resolution = "hour" | "day" | "month";
export const RESOLUTIONS: readonly Resolution[] = ["hour", "day", "month"];

const HOUR_S = 3600;
const DAY_S = 86_400;

/** Adds `months` calendar months to a unix-seconds time, in UTC (day clamped to the month's end). */
export function addMonths(seconds: number, months: number): number {
  const date = new Date(seconds * 1000);
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  target.setUTCHours(date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds());
  return target.getTime() / 1000;
}

/** Mailgun's duration: `[0-9]+[mdh]`, counted back from `end`; m means months. Null if malformed. */
export function parseDuration(text: string): { amount: number; unit: "h" | "d" | "m" } | null {
  const match = /^([0-9]{1,6})([hdm])$/.exec(text.trim());
  if (!match) return null;
  return { amount: Number(match[1]), unit: match[2] as "h" | "d" | "m" };
}

export function durationStart(end: number, duration: { amount: number; unit: "h" | "d" | "m" }): number {
  if (duration.unit === "h") return end - duration.amount * HOUR_S;
  if (duration.unit === "d") return end - duration.amount * DAY_S;
  return addMonths(end, -duration.amount);
}

/** The resolution a duration implies when none is given: h hourly, d daily, m monthly. */
export const resolutionOfDuration = (unit: "h" | "d" | "m"): Resolution => (unit === "h" ? "hour" : unit === "d" ? "day" : "month");

/** Start of the bucket holding `seconds` (UTC). */
export function bucketStart(seconds: number, resolution: Resolution): number {
  if (resolution === "hour") return Math.floor(seconds / HOUR_S) * HOUR_S;
  if (resolution === "day") return Math.floor(seconds / DAY_S) * DAY_S;
  const date = new Date(seconds * 1000);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) / 1000;
}

/**
 * How many buckets bucketsBetween(start, end) would build, by arithmetic alone: a range is checked
 * before any bucket exists, so a request for a billion hours costs no more than one for a day.
 */
export function countBuckets(start: number, end: number, resolution: Resolution): number {
  if (end < start) return 0;
  if (resolution === "hour") return Math.floor(end / HOUR_S) - Math.floor(start / HOUR_S) + 1;
  if (resolution === "day") return Math.floor(end / DAY_S) - Math.floor(start / DAY_S) + 1;
  const monthIndex = (seconds: number) => {
    const date = new Date(seconds * 1000);
    return date.getUTCFullYear() * 12 + date.getUTCMonth();
  };
  return monthIndex(end) - monthIndex(start) + 1;
}

/** Every bucket start from the one holding `start` to the one holding `end`, inclusive. */
export function bucketsBetween(start: number, end: number, resolution: Resolution): number[] {
  const out: number[] = [];
  for (let t = bucketStart(start, resolution); t <= end; ) {
    out.push(t);
    t = resolution === "hour" ? t + HOUR_S : resolution === "day" ? t + DAY_S : addMonths(t, 1);
  }
  return out;
}

/** "Tue, 14 Feb 2012 00:00:00 UTC", as Mailgun's stats write times. */
export function formatStatsDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString().replace(/GMT$/, "UTC");
}

/** Rollup retention (design rule 6): hourly rows for 2 months, daily rows for a year. */
/**
 * How long the seen-set remembers a (message, recipient) first opened or clicked: a later hit of
 * the same pair counts as unique again. Longer than any event retention (30 days) and than
 * SendGrid's 7 days of unique-open memory; at 1B events a month it is ~24 GB, spread over the stats
 * databases (docs/scale.md). Unit: days.
 */
export const SEEN_RETENTION_DAYS = 45;

export function rollupCutoffs(nowSeconds: number): { hourly: number; daily: number; seen: number } {
  return {
    hourly: bucketStart(addMonths(nowSeconds, -2), "hour"),
    daily: bucketStart(addMonths(nowSeconds, -12), "day"),
    seen: nowSeconds - SEEN_RETENTION_DAYS * 86_400,
  };
}

/** "2023-01-02 02:14:27 +0000 UTC", the form of Mailgun's legacy tag dates (first-seen, last-seen). */
export function formatTagDate(millis: number): string {
  return `${new Date(millis).toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}
