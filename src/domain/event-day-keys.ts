// The day keys (docs/storage.md, "Day keys"): for each (domain, day), a count per value of the
// fields the Events API filters by equality (recipient, message-id, event, tag), kept in the
// domain's key database. A page asks them once (per key database of its domains) instead of asking
// every day's shard whether it holds a match: a domain's day without the filter's values is
// skipped, and the days a page needs are read in one round. Pure: what a key is, which keys an
// event has, which keys a filter requires, and which days a page reads. SQL is in db/event-day-keys.ts.
import { dayOf } from "./event-shards";
import { type FilterNode, parseFilterExpression } from "./filter-expression";
import type { EventRow } from "./tracking-event";

/**
 * The filter fields a key can stand for: how a value is compared (as event-filters.ts does), and
 * whether its keys count events. Events and tags are few values a day, each on many events: their
 * counts size a page's first round. A recipient or a Message-ID is one value among thousands a day,
 * each on a few events: its key only says the value is there (n = 0), so that storing an event
 * rarely writes one (db/event-day-keys.ts writes a key it has not written before only).
 */
const KEYED_FIELDS: ReadonlyMap<string, { fold: (value: string) => string; counted: boolean }> = new Map([
  ["recipient", { fold: (value: string) => value.toLowerCase(), counted: false }],
  ["message-id", { fold: (value: string) => value, counted: false }],
  ["event", { fold: (value: string) => value, counted: true }],
  ["tags", { fold: (value: string) => value.toLowerCase(), counted: true }],
]);

/** FNV-1a (32-bit) of UTF-16 code units from an offset basis. */
function fnv1a(text: string, basis: number): number {
  let hash = basis;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * A 53-bit key (a safe JavaScript integer, an SQLite INTEGER) for a (domain, field, value): two
 * FNV-1a passes with different bases. Not a secret and not collision-proof: a collision only makes
 * a day look like it may hold a match, so it is read as it would be without the keys.
 */
export function dayKey(domain: string, field: string, value: string): number {
  const text = `${domain.toLowerCase()}\u0000${field}\u0000${KEYED_FIELDS.get(field)!.fold(value)}`;
  return (fnv1a(text, 0x811c9dc5) & 0x1fffff) * 2 ** 32 + fnv1a(text, 0x01000193);
}

/** A key's day and count (0: a key that is not counted, only there), as the store writes and reads them. */
export interface DayKeyCount {
  day: number;
  key: number;
  n: number;
}

/** Every key of these events per day (µs ts -> UTC day): counted keys with how many events carry each, the others with n = 0. */
export function keysOfEvents(rows: readonly EventRow[]): DayKeyCount[] {
  const counts = new Map<string, DayKeyCount>();
  const add = (row: EventRow, field: string, value: string) => {
    const [day, key, n] = [dayOf(row.ts), dayKey(row.domain, field, value), KEYED_FIELDS.get(field)!.counted ? 1 : 0];
    const id = `${day}:${key}`;
    const entry = counts.get(id);
    if (entry) entry.n += n;
    else counts.set(id, { day, key, n });
  };
  for (const row of rows) {
    add(row, "recipient", row.recipient);
    add(row, "event", row.event);
    if (row.messageId !== null) add(row, "message-id", row.messageId);
    for (const tag of new Set(row.tags)) add(row, "tags", tag);
  }
  return [...counts.values()];
}

/**
 * What every match of a filter expression requires, as a conjunction of disjunctions of values: a
 * superset of the matches (an OR of ANDs keeps one group of each side; NOT and comparisons require
 * nothing), never a subset, so a day the keys rule out holds no match.
 */
function requiredValues(node: FilterNode): string[][] {
  switch (node.kind) {
    case "term":
      return [[node.value]];
    case "and":
      return node.items.flatMap(requiredValues);
    case "or": {
      const values: string[] = [];
      for (const item of node.items) {
        const groups = requiredValues(item);
        if (groups.length === 0) return [];
        values.push(...groups.reduce((narrowest, group) => (group.length < narrowest.length ? group : narrowest)));
      }
      return [values];
    }
    default:
      return [];
  }
}

/**
 * The keys a page of each domain's events requires: every group must have a key present on a day
 * for the day to hold a match (each group: any of its keys). Empty: the filters require no keyed
 * value, every day may match. Expressions are parsed once, as the store compiles them (commaIsOr).
 */
export function requiredKeysOf(domains: readonly string[], filters: Record<string, string[]>): Map<string, number[][]> {
  const required: Array<[string, string[]]> = [];
  for (const [field, expressions] of Object.entries(filters)) {
    if (!KEYED_FIELDS.has(field)) continue;
    for (const expression of expressions) {
      for (const values of requiredValues(parseFilterExpression(expression, { commaIsOr: true }))) required.push([field, values]);
    }
  }
  return new Map(domains.map((domain) => [domain, required.map(([field, values]) => [...new Set(values.map((value) => dayKey(domain, field, value)))])]));
}

/** requiredKeysOf for one domain. */
export function requiredKeys(domain: string, filters: Record<string, string[]>): number[][] {
  return requiredKeysOf([domain], filters).get(domain)!;
}

/**
 * What the keys say of the days they were found on: how many events may match (the smallest
 * counted group's sum: an upper bound of the day's matches, give or take a redelivered batch
 * counted twice), Infinity when every group is there but none is counted, 0 when some group has no
 * key that day. A day without any key is not in the map: 0 too.
 */
export function dayEstimates(groups: readonly number[][], found: readonly DayKeyCount[]): Map<number, number> {
  const byDay = new Map<number, Map<number, number>>();
  for (const { day, key, n } of found) {
    const keys = byDay.get(day) ?? new Map<number, number>();
    // A key not counted (n = 0) stands for "some": Infinity.
    keys.set(key, (keys.get(key) ?? 0) + (n === 0 ? Number.POSITIVE_INFINITY : n));
    byDay.set(day, keys);
  }
  const estimates = new Map<number, number>();
  for (const [day, keys] of byDay) {
    estimates.set(day, Math.min(...groups.map((group) => group.reduce((sum, key) => sum + (keys.get(key) ?? 0), 0))));
  }
  return estimates;
}
