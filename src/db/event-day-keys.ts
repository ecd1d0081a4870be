// The day keys' SQL (docs/storage.md, "Day keys"; what a key is: domain/event-day-keys.ts). They
// live in each domain's stats database (the control database when there are none), so a page of
// one domain asks one database which days may hold its filter's values. Only the events store
// writes and reads them; the stats rollup's purge (stats-retention.ts) drops the days that have left the ring.
import { type DayKeyCount, keysOfEvents } from "../domain/event-day-keys";
import type { EventRow } from "../domain/tracking-event";
import { jsonChunks } from "./json-chunks";
import type { EventsBindings } from "./shards";
import { statsDatabases } from "./stats-shards";

// Counts add up: a batch the queue delivers again counts again, which only makes an estimate larger.
const UPSERT_KEYS = `INSERT INTO event_day_keys (day, key, n)
  SELECT value->>0, value->>1, value->>2 FROM json_each(?1) WHERE true
  ON CONFLICT (day, key) DO UPDATE SET n = n + excluded.n`;

/** A day list and a key list, each one JSON parameter: the primary key (day, key) is probed once per pair. */
export const LOOKUP_KEYS = `SELECT day, key, n FROM event_day_keys
  WHERE day IN (SELECT value FROM json_each(?1)) AND key IN (SELECT value FROM json_each(?2))`;

/** The account setting holding the first day whose events all have keys (migrations/0013). */
export const DAY_KEYS_SINCE = "event_day_keys_since";

/** Writes the keys of these events to their domains' stats databases: one statement per database (and JSON chunk). */
export async function writeDayKeys(env: EventsBindings, rows: readonly EventRow[]): Promise<void> {
  const stats = statsDatabases(env);
  const byDatabase = new Map<string, EventRow[]>();
  for (const row of rows) {
    const name = stats.nameOf(row.domain);
    const group = byDatabase.get(name);
    if (group) group.push(row);
    else byDatabase.set(name, [row]);
  }
  await Promise.all(
    [...byDatabase].map(([name, group]) => {
      const db = stats.database(name);
      // In key order: each statement's inserts walk the day's part of the primary key once.
      const keys = keysOfEvents(group).sort((a, b) => a.day - b.day || a.key - b.key);
      const statements = jsonChunks(keys.map(({ day, key, n }) => [day, key, n])).map((json) => db.prepare(UPSERT_KEYS).bind(json));
      return statements.length === 1 ? statements[0]!.run() : db.batch(statements);
    }),
  );
}

/** The keys found among `keys` on `days` in the domain's stats database. */
export async function lookupDayKeys(env: EventsBindings, domain: string, days: readonly number[], keys: readonly number[]): Promise<DayKeyCount[]> {
  const result = await statsDatabases(env).of(domain).prepare(LOOKUP_KEYS).bind(JSON.stringify(days), JSON.stringify(keys)).all<DayKeyCount>();
  return result.results;
}
