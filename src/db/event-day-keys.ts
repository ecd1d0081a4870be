// The day keys' SQL (docs/storage.md, "Day keys"; what a key is: domain/event-day-keys.ts). They
// live in each domain's key database (KEYS_<hash % m>; its stats database, or the control
// database, when there are none: domain/key-databases.ts), so a page asks each key database of
// its domains (one for a single domain) which days may hold its filter's values. Only the events
// store writes and reads them; the stats rollup's cron purges the days that have left the ring and
// settles the layout (settleDayKeysLayout).

import { type DayKeyCount, keysOfEvents } from "../domain/event-day-keys";
import { CONTROL_DATABASE, dayOf } from "../domain/event-shards";
import { groupBy } from "../domain/group-by";
import { isKeysBinding, keysCountOfBindings, keysFor, keysLayoutName } from "../domain/key-databases";
import type { EventRow } from "../domain/tracking-event";
import { INSERT_PRESENT, LOOKUP_KEYS, UPSERT_COUNTED } from "./event-day-keys-sql";
import { jsonChunks } from "./json-chunks";
import type { EventsBindings } from "./shards";
import { statsDatabases } from "./stats-shards";

/** The account setting holding the first day whose events all have keys (migrations/0013). */
export const DAY_KEYS_SINCE = "event_day_keys_since";
/** The account setting naming where the keys of the days from DAY_KEYS_SINCE are (keysLayoutName; migrations/0014). */
export const DAY_KEYS_AT = "event_day_keys_at";

/** The Worker's key databases: where each domain's keys are, by binding name. */
export class KeyDatabases {
  constructor(
    /** m: 0 when the stats databases (or the control database) keep the keys. */
    readonly count: number,
    private readonly statsCount: number,
    private readonly databases: ReadonlyMap<string, D1Database>,
  ) {}

  /** Where the keys are, as DAY_KEYS_AT records it. */
  get layout(): string {
    return keysLayoutName(this.count);
  }

  nameOf(domain: string): string {
    return keysFor(domain, this.count, this.statsCount);
  }

  of(domain: string): D1Database {
    return this.database(this.nameOf(domain));
  }

  database(name: string): D1Database {
    const db = this.databases.get(name);
    if (!db) throw new Error(`key database ${name} is not bound to this Worker (run \`npm run shards\`)`);
    return db;
  }

  /** The key databases of their own (none when the stats databases keep the keys). */
  own(): D1Database[] {
    return [...this.databases].filter(([name]) => isKeysBinding(name)).map(([, db]) => db);
  }
}

const cache = new WeakMap<object, KeyDatabases>();

/** The Worker's key databases (the bindings do not change within an isolate). */
export function keyDatabases(env: EventsBindings): KeyDatabases {
  const cached = cache.get(env);
  if (cached) return cached;
  const stats = statsDatabases(env);
  const databases = new Map<string, D1Database>([[CONTROL_DATABASE, env.DB], ...stats.names.map((name) => [name, stats.database(name)] as const)]);
  for (const [name, value] of Object.entries(env)) if (isKeysBinding(name)) databases.set(name, value as D1Database);
  const result = new KeyDatabases(keysCountOfBindings(databases.keys()), stats.count, databases);
  cache.set(env, result);
  return result;
}

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
 * Writes the keys of these events to their domains' key databases: per database, one upsert of
 * the counted keys due a write and one insert of the present keys this isolate has not stored
 * yet, in one batch.
 */
export async function writeDayKeys(env: EventsBindings, rows: readonly EventRow[]): Promise<void> {
  const keys = keyDatabases(env);
  await settledOnce(env);
  await Promise.all(
    [...groupBy(rows, (row) => keys.nameOf(row.domain))].map(async ([name, group]) => {
      const db = keys.database(name);
      let remembered = rememberedKeys.get(db);
      if (!remembered) rememberedKeys.set(db, (remembered = new Map()));
      // In key order: each statement walks the day's part of the primary key once.
      const found = keysOfEvents(group).sort((a, b) => a.day - b.day || a.key - b.key);
      const counted: Array<[string, number, number, number]> = [];
      const present: Array<[string, number, number]> = [];
      for (const { day, key, n } of found) {
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

/** The keys found among each domain's `wanted` keys on `days`: one query per key database holding any of the domains, at once. */
export async function lookupDayKeys(env: EventsBindings, wanted: ReadonlyMap<string, readonly number[]>, days: readonly number[]): Promise<DayKeyCount[]> {
  const keys = keyDatabases(env);
  const found = await Promise.all(
    [...groupBy([...wanted.keys()], (domain) => keys.nameOf(domain))].map(
      async ([name, domains]) =>
        (
          await keys
            .database(name)
            .prepare(LOOKUP_KEYS)
            .bind(JSON.stringify(days), JSON.stringify(domains.flatMap((domain) => wanted.get(domain)!)))
            .all<DayKeyCount>()
        ).results,
    ),
  );
  return found.flat();
}

/**
 * settleDayKeysLayout once per isolate and control database, before the isolate writes its first
 * key: so a key is never in a new place before the first day the keys cover has moved past it.
 * Otherwise, in the minutes between a deploy that moves the keys and the next cron run, a Worker
 * of the old layout still being served would trust its old place for today and skip a day holding
 * events whose keys the new Worker wrote elsewhere. A failure is not remembered (the batch fails
 * and the queue delivers it again).
 */
const settled = new WeakMap<D1Database, Promise<void>>();
function settledOnce(env: EventsBindings): Promise<void> {
  let done = settled.get(env.DB);
  if (!done) {
    done = settleDayKeysLayout(env, Date.now()).catch((error: unknown) => {
      settled.delete(env.DB);
      throw error;
    });
    settled.set(env.DB, done);
  }
  return done;
}

/**
 * Records where this Worker writes the keys (DAY_KEYS_AT), in one batch on the control database.
 * When another layout was recorded (the keys moved: databases of their own, or another m), the
 * first day the keys cover (DAY_KEYS_SINCE) becomes two days from `now` at the earliest: the days
 * before have their keys in the old place, or in both, and Workers of the old layout may still
 * write for a few minutes; two days on, every key is where this Worker reads it. Pages read the
 * days in between whole, as they do the days before the keys (keysUsable, readPlan). Run by each
 * stats rollup cron run and by each isolate before its first key write (settledOnce): one query,
 * which changes nothing once the layout is recorded.
 */
export async function settleDayKeysLayout(env: EventsBindings, now: number): Promise<void> {
  const layout = keyDatabases(env).layout;
  await env.DB.batch([
    env.DB.prepare(
      `UPDATE account_settings SET value = CAST(max(CAST(value AS INTEGER), ?3) AS INTEGER) WHERE name = ?1
         AND EXISTS (SELECT 1 FROM account_settings WHERE name = ?2 AND value != ?4)`,
    ).bind(DAY_KEYS_SINCE, DAY_KEYS_AT, dayOf(now * 1000) + 2, layout),
    env.DB.prepare(
      "INSERT INTO account_settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE value != excluded.value",
    ).bind(DAY_KEYS_AT, layout),
  ]);
}
