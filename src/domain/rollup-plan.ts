// Turns a chunk of stored events into the rows the rollup adds: hourly and daily counters per
// domain and tag, daily counters per dimension, the seen-set rows behind unique opens and clicks,
// and the tags met. Pure: what is already seen and which tags are admitted come from the caller.
import { countersOf, dayBucket, hourBucket, type RollupEvent, STATS_COUNTERS, uniqueCounterOf } from "./stats-counters";

export type DimensionKind = "country" | "device" | "bot" | "provider";

export interface RollupPlan {
  /** [domain, tag, resolution, bucket, ...counts in STATS_COUNTERS order] */
  counters: Array<Array<string | number>>;
  /** [domain, tag, kind, value, day, ...counts] */
  dimensions: Array<Array<string | number>>;
  /** [domain, messageId, recipient, scope, firstSeen (unix seconds)] */
  seen: Array<[string, string, string, string, number]>;
  /** [domain, tag, firstSeen, lastSeen] in unix milliseconds */
  tags: Array<[string, string, number, number]>;
}

const SEP = "\u0000";
export const seenKey = (domain: string, messageId: string, recipient: string, scope: string) => [domain, messageId, recipient, scope].join(SEP);

/** The seen-set scopes of a hit: any client, and its own class ('' = a person) for the bot dimension. */
export function seenScopes(event: RollupEvent): string[] {
  if (!uniqueCounterOf(event.event)) return [];
  return [event.event, `${event.event}:${event.bot ?? ""}`];
}

const HITS = new Set(["opened", "clicked", "unsubscribed"]);

function dimensionsOf(event: RollupEvent): Array<[DimensionKind, string]> {
  const dims: Array<[DimensionKind, string]> = [["provider", event.provider || "unknown"]];
  if (HITS.has(event.event)) {
    const country = event.country && event.country !== "Unknown" ? event.country.toLowerCase() : "unknown";
    dims.push(["country", country], ["device", event.device || "unknown"], ["bot", event.bot ?? ""]);
  }
  return dims;
}

/** A counter's column in a plan row's counts (STATS_COUNTERS order). */
const COLUMN = new Map<string, number>(STATS_COUNTERS.map((name, i) => [name, i]));
const columnsOf = (names: readonly string[]): number[] => names.map((name) => COLUMN.get(name)!);

interface Entry {
  key: Array<string | number>;
  counts: number[];
}

/**
 * `seen` holds the seenKey of every (message, recipient, scope) already counted, and is updated
 * as the chunk is read, so a chunk with two opens of one message counts one unique. `tagsOf`
 * says which of an event's tags are kept (the others are over the domain's limit). What an event
 * adds (its counter columns, its dimensions) is worked out once per event, then added to each of
 * its tags' rows: a chunk makes tens of thousands of additions.
 */
export function planRollup(events: RollupEvent[], seen: Set<string>, tagsOf: (event: RollupEvent) => string[]): RollupPlan {
  const counters = new Map<string, Entry>();
  const dimensions = new Map<string, Entry>();
  const seenRows: RollupPlan["seen"] = [];
  const tagTimes = new Map<string, [string, string, number, number]>();
  const add = (into: Map<string, Entry>, id: string, key: () => Array<string | number>, columns: number[]) => {
    let entry = into.get(id);
    if (!entry) into.set(id, (entry = { key: key(), counts: new Array<number>(STATS_COUNTERS.length).fill(0) }));
    for (const column of columns) entry.counts[column]!++;
  };

  for (const event of events) {
    const names = countersOf(event);
    if (names.length === 0) continue;
    // First hit of this message and recipient: for any client, and for this client's class.
    const firsts = new Map<string, boolean>();
    for (const scope of seenScopes(event)) {
      const key = seenKey(event.domain, event.messageId ?? "", event.recipient, scope);
      const first = !seen.has(key);
      firsts.set(scope, first);
      if (first) {
        seen.add(key);
        seenRows.push([event.domain, event.messageId ?? "", event.recipient, scope, Math.floor(event.ts / 1e6)]);
      }
    }
    const unique = uniqueCounterOf(event.event);
    const withUnique = (scope: string) => columnsOf(unique && firsts.get(scope) ? [...names, unique] : names);
    const counted = withUnique(event.event);
    const dims = dimensionsOf(event).map(([kind, value]) => ({
      kind,
      value,
      columns: kind === "bot" ? withUnique(`${event.event}:${value}`) : counted,
    }));
    const hour = hourBucket(event.ts);
    const day = dayBucket(event.ts);
    const ms = Math.floor(event.ts / 1000);
    for (const tag of ["", ...tagsOf(event)]) {
      const base = event.domain + SEP + tag;
      add(counters, `${base}${SEP}hour${SEP}${hour}`, () => [event.domain, tag, "hour", hour], counted);
      add(counters, `${base}${SEP}day${SEP}${day}`, () => [event.domain, tag, "day", day], counted);
      for (const dim of dims) {
        add(dimensions, `${base}${SEP}${dim.kind}${SEP}${day}${SEP}${dim.value}`, () => [event.domain, tag, dim.kind, dim.value, day], dim.columns);
      }
      if (tag === "") continue;
      const times = tagTimes.get(base);
      if (times) [times[2], times[3]] = [Math.min(times[2], ms), Math.max(times[3], ms)];
      else tagTimes.set(base, [event.domain, tag, ms, ms]);
    }
  }
  // In primary-key order (the ids are the keys' columns in key order): the upserts then walk each
  // table's B-tree from one end to the other instead of jumping about it.
  const rows = (map: Map<string, Entry>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, { key, counts }]) => [...key, ...counts]);
  return { counters: rows(counters), dimensions: rows(dimensions), seen: seenRows, tags: [...tagTimes.values()] };
}

/**
 * Which new tags a domain may still take: in the order met, until the domain holds `limit`.
 * Mailgun drops tags past the limit; their events still count in the domain's totals.
 */
export function admitNewTags(candidates: string[], heldByDomain: number, limit: number): string[] {
  return candidates.slice(0, Math.max(0, limit - heldByDomain));
}
