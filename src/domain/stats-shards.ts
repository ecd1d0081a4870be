// Where a domain's stats live (docs/storage.md, "Stats databases"): pure rules, no bindings. The
// rollups (counters, dimensions, the unique-open/click seen-set, tags) are spread over n stats
// databases STATS_0..STATS_<n-1> by the same hash that spreads events over a slot's databases, so
// with a slot's database count a multiple of n, every event shard feeds exactly one stats
// database and a rollup step (its counters, seen-set, tags and that shard's watermark) is one
// atomic batch there. n = 0 keeps the stats in the control database, as before the split.
import { CONTROL_DATABASE, domainHash, type ShardLayout, ShardLayoutError } from "./event-shards";

const STATS_BINDING = /^STATS_(\d+)$/;
const HASHED_SHARD = /^EV_S(\d+)_K(\d+)$/;
const PINNED_SHARD = /^EV_S(\d+)_P(\d+)$/;

export function isStatsBinding(name: string): boolean {
  return STATS_BINDING.test(name);
}

export function statsBinding(index: number): string {
  return `STATS_${index}`;
}

/**
 * How many of a numbered kind of binding there are (`PREFIX_0` to `PREFIX_<n-1>`, none missing);
 * 0 when there are none. Throws ShardLayoutError naming a gap.
 */
export function countOfNumberedBindings(names: Iterable<string>, pattern: RegExp, what: string, bindingOf: (index: number) => string): number {
  const found = new Set<number>();
  for (const name of names) {
    const match = pattern.exec(name);
    if (match) found.add(Number(match[1]));
  }
  for (let i = 0; i < found.size; i++) {
    if (!found.has(i)) throw new ShardLayoutError(`${what} ${bindingOf(i)} is missing (run \`npm run shards\`)`);
  }
  return found.size;
}

/** How many stats databases the Worker's bindings describe: STATS_0 to STATS_<n-1> (countOfNumberedBindings). */
export function statsCountOfBindings(names: Iterable<string>): number {
  return countOfNumberedBindings(names, STATS_BINDING, "stats database", statsBinding);
}

/** The database holding a domain's stats among n (the control database when n is 0). */
export function statsFor(domain: string, n: number): string {
  return n === 0 ? CONTROL_DATABASE : statsBinding(domainHash(domain) % n);
}

/**
 * The stats databases an event shard's events are rolled up into, given every layout the
 * directory holds: one when all the shard's possible domains hash to one (a hashed shard whose
 * layouts all have a multiple of n databases per slot, a pinned shard), otherwise each stats
 * database, each rolling up only its own domains (the control database's days from before the
 * shards, a ring whose width is not a multiple of n).
 */
export function statsTargetsOf(shard: string, layouts: readonly ShardLayout[], n: number): string[] {
  if (n === 0) return [CONTROL_DATABASE];
  const all = Array.from({ length: n }, (_, i) => statsBinding(i));
  const hashed = HASHED_SHARD.exec(shard);
  if (hashed) {
    const [slot, k] = [Number(hashed[1]), Number(hashed[2])];
    const using = layouts.filter((layout) => slot < layout.slots && k < layout.perSlot);
    return using.length > 0 && using.every((layout) => layout.perSlot % n === 0) ? [statsBinding(k % n)] : all;
  }
  const pinned = PINNED_SHARD.exec(shard);
  if (pinned) {
    const [slot, p] = [Number(pinned[1]), Number(pinned[2])];
    const domains = layouts.filter((layout) => slot < layout.slots && p < layout.pins.length).map((layout) => layout.pins[p]!);
    const targets = [...new Set(domains.map((domain) => statsFor(domain, n)))];
    return targets.length > 0 ? targets.sort() : all;
  }
  return all;
}
