// The day keys' SQL (docs/storage.md, "Day keys"; what a key is: domain/event-day-keys.ts). They
// live in each domain's stats database (the control database when there are none), so a page of
// one domain asks one database which days may hold its filter's values. Only the events store
// writes and reads them; the stats rollup's purge (stats-retention.ts) drops the days that have left the ring.
import { type DayKeyCount, keysOfEvents } from "../domain/event-day-keys";
import type { EventRow } from "../domain/tracking-event";
import { INSERT_PRESENT, LOOKUP_KEYS, UPSERT_COUNTED } from "./event-day-keys-sql";
import { jsonChunks } from "./json-chunks";
import type { EventsBindings } from "./shards";
import { statsDatabases } from "./stats-shards";

/** The account setting holding the first day whose events all have keys (migrations/0013). */
export const DAY_KEYS_SINCE = "event_day_keys_since";

/**
 * Keys that are only there (recipients, Message-IDs) this isolate has stored, per database: most
 * events of a message repeat its recipient's and Message-ID's key of the day, which need not be
 * written again. Added only once their write succeeded; forgotten all at once when full (the
 * keys are then written again, and ignored). Unit: keys per database.
 */
const PRESENT_KEYS_REMEMBERED = 200_000;
const presentKeys = new WeakMap<D1Database, Set<string>>();

/**
 * Writes the keys of these events to their domains' stats databases: per database, one upsert of
 * the counted keys and one insert of the present keys this isolate has not stored yet, in one batch.
 */
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
    [...byDatabase].map(async ([name, group]) => {
      const db = stats.database(name);
      let remembered = presentKeys.get(db);
      if (!remembered) presentKeys.set(db, (remembered = new Set()));
      // In key order: each statement walks the day's part of the primary key once.
      const keys = keysOfEvents(group).sort((a, b) => a.day - b.day || a.key - b.key);
      const counted = keys.filter((k) => k.n > 0).map(({ day, key, n }) => [day, key, n]);
      const present = keys.filter((k) => k.n === 0 && !remembered.has(`${k.day}:${k.key}`));
      const statements = [
        ...jsonChunks(counted).map((json) => db.prepare(UPSERT_COUNTED).bind(json)),
        ...jsonChunks(present.map(({ day, key }) => [day, key])).map((json) => db.prepare(INSERT_PRESENT).bind(json)),
      ];
      if (statements.length === 0) return;
      await (statements.length === 1 ? statements[0]!.run() : db.batch(statements));
      if (remembered.size + present.length > PRESENT_KEYS_REMEMBERED) remembered.clear();
      for (const k of present) remembered.add(`${k.day}:${k.key}`);
    }),
  );
}

/** The keys found among `keys` on `days` in the domain's stats database. */
export async function lookupDayKeys(env: EventsBindings, domain: string, days: readonly number[], keys: readonly number[]): Promise<DayKeyCount[]> {
  const result = await statsDatabases(env).of(domain).prepare(LOOKUP_KEYS).bind(JSON.stringify(days), JSON.stringify(keys)).all<DayKeyCount>();
  return result.results;
}
