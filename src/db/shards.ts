// The event shards' directory (docs/storage.md, "Event shards"): the layouts in the control
// database's event_layouts, cached per isolate, and the Worker's shard bindings by name. Only the
// events store (events-store.ts) and the crons that fan out over shards (through the store's
// exports) use it; nothing else knows how many databases there are.
import {
  CONTROL_DATABASE,
  dayOf,
  firstStorableDay,
  isShardBinding,
  LAYOUT_LEAD_DAYS,
  layoutOfBindings,
  layoutOn,
  parsePins,
  type ShardLayout,
  sameLayout,
  shardFor,
  shardsOfSlot,
} from "../domain/event-shards";

export interface EventsBindings {
  DB: D1Database;
  /** Comma-separated domains with shard databases of their own (written by `npm run shards`). */
  EVENT_SHARD_PINS?: string;
}

/**
 * How long an isolate trusts its copy of the directory. Unit: ms. A new layout starts
 * LAYOUT_LEAD_DAYS after it is written, so every copy has seen it long before it matters.
 */
const DIRECTORY_TTL_MS = 60_000;

export class Directory {
  constructor(
    /** Sorted by fromDay. */
    readonly layouts: readonly ShardLayout[],
    private readonly databases: ReadonlyMap<string, D1Database>,
  ) {}

  /** The binding name holding a domain's events of a day. */
  nameFor(domain: string, day: number): string {
    return shardFor(layoutOn(this.layouts, day), domain, day);
  }

  /**
   * Where what a domain had at `atMs` is written (an event, a message sent then, its return paths),
   * or null when that day is past every retention at `nowMs` (firstStorableDay): not stored.
   */
  nameAt(domain: string, atMs: number, nowMs: number): string | null {
    const day = dayOf(atMs * 1000);
    return day < firstStorableDay(nowMs) ? null : this.nameFor(domain, day);
  }

  has(name: string): boolean {
    return this.databases.has(name);
  }

  database(name: string): D1Database {
    const db = this.databases.get(name);
    if (!db) throw new Error(`event shard ${name} is not bound to this Worker (run \`npm run shards\`)`);
    return db;
  }

  /** Every binding a day's events may be in (its slot's databases under that day's layout). */
  namesOfDay(day: number): string[] {
    return shardsOfSlot(layoutOn(this.layouts, day), day);
  }
}

/** Per isolate, per control database (tests run several environments in one isolate). */
const cache = new WeakMap<D1Database, { directory: Directory; at: number }>();

interface LayoutRow {
  fromDay: number;
  slots: number;
  perSlot: number;
  pins: string;
}

/** The Worker's shard bindings by name, the control database among them. */
function shardDatabases(env: EventsBindings): Map<string, D1Database> {
  const databases = new Map<string, D1Database>([[CONTROL_DATABASE, env.DB]]);
  for (const [name, value] of Object.entries(env)) if (isShardBinding(name)) databases.set(name, value as D1Database);
  return databases;
}

/**
 * The directory, read once a minute per isolate. When the bindings describe a ring the directory
 * does not end with, it records that ring from LAYOUT_LEAD_DAYS ahead (from day 0 on a database
 * with no layout yet), replacing a layout that has not started: days already begun never move.
 */
export async function directory(env: EventsBindings, now = Date.now()): Promise<Directory> {
  const cached = cache.get(env.DB);
  if (cached && now - cached.at < DIRECTORY_TTL_MS) return cached.directory;
  const databases = shardDatabases(env);
  const bound = layoutOfBindings(databases.keys(), parsePins(env.EVENT_SHARD_PINS));
  const read = async () =>
    (await env.DB.prepare(`SELECT from_day AS fromDay, slots, per_slot AS perSlot, pins FROM event_layouts ORDER BY from_day`).all<LayoutRow>()).results.map(
      (row): ShardLayout => ({ ...row, pins: JSON.parse(row.pins) as string[] }),
    );
  let layouts = await read();
  const newest = layouts.at(-1);
  if (!newest || !sameLayout(newest, bound)) {
    const today = dayOf(now * 1000);
    const fromDay = newest ? today + LAYOUT_LEAD_DAYS : 0;
    // Keyed by its day: isolates racing to record the same ring write one row.
    await env.DB.prepare(
      `INSERT INTO event_layouts (from_day, slots, per_slot, pins, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (from_day) DO UPDATE SET slots = excluded.slots, per_slot = excluded.per_slot, pins = excluded.pins
       WHERE event_layouts.from_day >= ?6`,
    )
      .bind(fromDay, bound.slots, bound.perSlot, JSON.stringify(bound.pins), now, today + LAYOUT_LEAD_DAYS)
      .run();
    // A layout that has not started yet and that these bindings no longer describe goes too.
    await env.DB.prepare("DELETE FROM event_layouts WHERE from_day > ?1").bind(fromDay).run();
    layouts = await read();
  }
  const result = new Directory(layouts, databases);
  cache.set(env.DB, { directory: result, at: now });
  return result;
}

/** Forgets the cached directories (tests that change the layout table). */
export function forgetDirectories(env: EventsBindings): void {
  cache.delete(env.DB);
}
