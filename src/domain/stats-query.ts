// The query of the Stats API (and of the Metrics API's time range): event list, start, end,
// resolution and duration, read the way Mailgun reads them. Pure; errors are StatsQueryError
// (a 400 for the caller).
import { parseMailgunDate } from "./dates";
import { STATS_EVENTS, type StatsEvent } from "./stats-shape";
import { bucketsBetween, countBuckets, durationStart, parseDuration, RESOLUTIONS, type Resolution, resolutionOfDuration } from "./stats-time";

export class StatsQueryError extends Error {}

/**
 * Buckets one stats request may span. Mailgun documents no such cap; 3,000 is twice the hourly
 * retention (62 days of hours is 1,488), eight years of days or 250 years of months, and keeps an
 * answer under about 2 MB. Checked by arithmetic before any bucket is built.
 */
export const MAX_STATS_BUCKETS = 3000;
const DEFAULT_SPAN_S = 7 * 86_400;

export interface StatsRange {
  /** Unix seconds. */
  start: number;
  end: number;
  resolution: Resolution;
  buckets: number[];
}

function parseDate(name: string, text: string | undefined): number | null {
  if (text === undefined || text.trim() === "") return null;
  const micros = parseMailgunDate(text);
  if (micros === null) throw new StatsQueryError(`Invalid '${name}': '${text}' is not an RFC 2822 date or epoch seconds`);
  return Math.floor(micros / 1e6);
}

/** start/end/resolution/duration to a range: duration counts back from end and overrides start. */
export function parseStatsRange(input: { start?: string; end?: string; resolution?: string; duration?: string }, nowSeconds: number): StatsRange {
  const end = parseDate("end", input.end) ?? nowSeconds;
  let start = parseDate("start", input.start);
  let resolution: Resolution | undefined;
  if (input.resolution) {
    if (!RESOLUTIONS.includes(input.resolution as Resolution)) throw new StatsQueryError(`Invalid resolution '${input.resolution}': use hour, day or month`);
    resolution = input.resolution as Resolution;
  }
  if (input.duration) {
    const duration = parseDuration(input.duration);
    if (!duration) throw new StatsQueryError(`Invalid duration '${input.duration}': use a number and h, d or m, like 24h, 7d or 1m`);
    start = durationStart(end, duration);
    resolution ??= resolutionOfDuration(duration.unit);
  }
  start ??= end - DEFAULT_SPAN_S;
  resolution ??= "day";
  if (start > end) throw new StatsQueryError("'start' must not be later than 'end'");
  const count = countBuckets(start, end, resolution);
  if (count > MAX_STATS_BUCKETS)
    throw new StatsQueryError(`The range holds ${count} ${resolution}s, more than ${MAX_STATS_BUCKETS}: narrow it or use a coarser resolution`);
  return { start, end, resolution, buckets: bucketsBetween(start, end, resolution) };
}

/** `event` repeated (event=a&event=b) or comma-joined (event=a,b): both are what clients send. */
export function parseStatsEvents(values: string[]): StatsEvent[] {
  const names = values
    .flatMap((value) => value.split(","))
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new StatsQueryError("Missing mandatory parameter: event");
  for (const name of names) if (!STATS_EVENTS.includes(name as StatsEvent)) throw new StatsQueryError(`Invalid event '${name}'`);
  return [...new Set(names)] as StatsEvent[];
}
