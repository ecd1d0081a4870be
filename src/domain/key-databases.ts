// Where a domain's day keys live (docs/storage.md, "Day keys databases"; what a key is:
// event-day-keys.ts): pure rules, no bindings. With m key databases KEYS_0..KEYS_<m-1>, a domain's
// keys are in KEYS_<hash % m>, by the hash that spreads its events and stats; with none, in its
// stats database (statsFor), where they were before the key databases existed. They have
// databases of their own because at 1B events a month they are ~19 GB beside the stats
// databases' ~24 GB (docs/scale.md, "What breaks first"). Moving the keys (another m, or
// databases of their own at last) leaves the days already written without their keys in the new
// place: the layout is named in the control database (DAY_KEYS_AT) and the cron moves the first
// day the keys cover past the move (db/event-day-keys.ts, settleDayKeysLayout).
import { domainHash } from "./event-shards";
import { countOfNumberedBindings, statsFor } from "./stats-shards";

const KEYS_BINDING = /^KEYS_(\d+)$/;

export function isKeysBinding(name: string): boolean {
  return KEYS_BINDING.test(name);
}

export function keysBinding(index: number): string {
  return `KEYS_${index}`;
}

/** How many key databases the bindings describe: KEYS_0 to KEYS_<m-1>, none missing (ShardLayoutError on a gap). */
export function keysCountOfBindings(names: Iterable<string>): number {
  return countOfNumberedBindings(names, KEYS_BINDING, "key database", keysBinding);
}

/** The binding holding a domain's day keys: among m key databases, or (m = 0) its stats database among n. */
export function keysFor(domain: string, m: number, statsCount: number): string {
  return m === 0 ? statsFor(domain, statsCount) : keysBinding(domainHash(domain) % m);
}

/**
 * The name of where the keys are, as the control database records it: `KEYS_<m>`, or `STATS`
 * (the stats databases, whose count never changes without losing the stats: `npm run shards`).
 */
export function keysLayoutName(m: number): string {
  return m === 0 ? "STATS" : `KEYS_${m}`;
}

/**
 * Whether the keys a page finds can rule days out: the recorded layout is this Worker's, or none
 * is recorded yet (a deployment that had no domains when migrations/0014 ran, so every key was
 * written where this Worker writes them; the cron records it within a run).
 */
export function keysUsable(recorded: string | null | undefined, m: number): boolean {
  return recorded == null || recorded === keysLayoutName(m);
}
