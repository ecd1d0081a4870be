// The day keys' SQL (docs/storage.md, "Day keys"; what a key is: domain/event-day-keys.ts). They
// live in each domain's stats database (the control database when there are none), so a page of
// one domain asks one database which days may hold its filter's values. Only the events store
// writes and reads them; the stats rollup's purge (stats-retention.ts) drops the days that have left the ring.
import { type DayKeyCount, keysOfEvents } from "../domain/event-day-keys";
import { groupBy } from "../domain/group-by";
import type { EventRow } from "../domain/tracking-event";
import { INSERT_PRESENT, LOOKUP_KEYS, UPSERT_COUNTED } from "./event-day-keys-sql";
import { jsonChunks } from "./json-chunks";
import type { EventsBindings } from "./shards";
import { statsDatabases } from "./stats-shards";

/** The account setting holding the first day whose events all have keys (migrations/0013). */
export const DAY_KEYS_SINCE = "event_day_keys_since";

/**
 * What this isolate has stored of each key, per database (`day:key`): a recipient's or a
 * Message-ID's key (written once: most events of a message repeat them) with nothing to add, an
 * event's or tag's with the count written and the count not yet written. A counted key is
 * written at once the first time, then whenever what it has gathered reaches an eighth of what
 * it wrote (COUNT_FLUSH_SHARE): a busy key is written a few dozen times a day instead of with
 * every batch, and the stored count lags this isolate's by at most an eighth (lost if the
 * isolate goes: the count is an estimate, the key itself is always stored with its first event).
 * Entries are added only once their write succeeded, and forgotten all at once when there are
 * KEYS_REMEMBERED (then written again, which changes nothing but the counts' lag).
 */
const KEYS_REMEMBERED = 200_000; // entries per database
const COUNT_FLUSH_SHARE = 8;
interface Remembered {
  written: number;
  pending: number;
}
const rememberedKeys = new WeakMap<D1Database, Map<string, Remembered>>();

/**
 * Writes the keys of these events to their domains' stats databases: per database, one upsert of
 * the counted keys due a write and one insert of the present keys this isolate has not stored
 * yet, in one batch.
 */
export async function writeDayKeys(env: EventsBindings, rows: readonly EventRow[]): Promise<void> {
  const stats = statsDatabases(env);
  await Promise.all(
    [...groupBy(rows, (row) => stats.nameOf(row.domain))].map(async ([name, group]) => {
      const db = stats.database(name);
      let remembered = rememberedKeys.get(db);
      if (!remembered) rememberedKeys.set(db, (remembered = new Map()));
      // In key order: each statement walks the day's part of the primary key once.
      const keys = keysOfEvents(group).sort((a, b) => a.day - b.day || a.key - b.key);
      const counted: Array<[string, number, number, number]> = [];
      const present: Array<[string, number, number]> = [];
      for (const { day, key, n } of keys) {
        const id = `${day}:${key}`;
        const known = remembered.get(id);
        if (n === 0) {
          if (!known) present.push([id, day, key]);
        } else if (!known) {
          counted.push([id, day, key, n]);
        } else if ((known.pending + n) * COUNT_FLUSH_SHARE >= known.written) {
          counted.push([id, day, key, known.pending + n]);
        } else {
          known.pending += n;
        }
      }
      const statements = [
        ...jsonChunks(counted.map(([, day, key, n]) => [day, key, n])).map((json) => db.prepare(UPSERT_COUNTED).bind(json)),
        ...jsonChunks(present.map(([, day, key]) => [day, key])).map((json) => db.prepare(INSERT_PRESENT).bind(json)),
      ];
      if (statements.length === 0) return;
      await (statements.length === 1 ? statements[0]!.run() : db.batch(statements));
      if (remembered.size + counted.length + present.length > KEYS_REMEMBERED) remembered.clear();
      for (const [id, , , n] of counted) {
        const known = remembered.get(id);
        if (known) {
          known.written += n;
          known.pending = 0;
        } else {
          remembered.set(id, { written: n, pending: 0 });
        }
      }
      for (const [id] of present) remembered.set(id, { written: 0, pending: 0 });
    }),
  );
}

/** The keys found among `keys` on `days` in the domain's stats database. */
export async function lookupDayKeys(env: EventsBindings, domain: string, days: readonly number[], keys: readonly number[]): Promise<DayKeyCount[]> {
  const result = await statsDatabases(env).of(domain).prepare(LOOKUP_KEYS).bind(JSON.stringify(days), JSON.stringify(keys)).all<DayKeyCount>();
  return result.results;
}
