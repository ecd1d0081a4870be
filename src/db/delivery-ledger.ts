// The webhook ledger's finished deliveries ('delivered', 'rejected') follow their event into its
// shard (docs/storage.md, "Event shards"): each is recorded in, and checked against, the event
// shard of the event's domain and day (table webhook_ledger, migrations-events/0004), so a
// delivery writes its event's shard, not the control database, and is emptied with the slot.
// What stays in the control database's webhook_deliveries (webhooks.ts):
// - dead letters ('failed', with their event-data): listed per domain and replayed from there;
// - the done rows of an event past every retention, or without a usable timestamp (a dead letter
//   replayed weeks late): its slot may already hold another day; the cron purges them after 2 days;
// - done rows written before the ledger moved (the upgrade window, 2 days until the cron has
//   purged them): the lookup reads the control database too, one query per batch.
import { MAX_EPOCH_SECONDS } from "../domain/dates";
import { CONTROL_DATABASE, dayOf } from "../domain/event-shards";
import { groupBy } from "../domain/group-by";
import { jsonChunks } from "./json-chunks";
import { type Directory, directory, type EventsBindings } from "./shards";
import { type FinishedDelivery, finishedDeliveryIds, recordDeliveries } from "./webhooks";

/** A delivery as the ledger places it: by its event's domain and `timestamp` (unix seconds, as the event-data carries it). */
export interface LedgerKey {
  id: string;
  domain: string;
  /** The event-data's `timestamp`, unchecked: a queue may carry anything. */
  eventTimestamp: unknown;
}

export type LedgerDelivery = FinishedDelivery & { eventTimestamp: unknown };

/** The event's time in ms (µs-exact, as the events store files the event), or null when its timestamp is not a time. */
function eventMs(key: LedgerKey): number | null {
  const seconds = key.eventTimestamp;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0 || seconds >= MAX_EPOCH_SECONDS) return null;
  return Math.round(seconds * 1e6) / 1000;
}

/**
 * Where a delivery's done row is written: its event's shard, or the control database when the
 * event is past every retention at `now` (its slot may hold another day) or has no usable timestamp.
 */
function recordPlace(dir: Directory, key: LedgerKey, now: number): string {
  const ms = eventMs(key);
  return (ms === null ? null : dir.nameAt(key.domain, ms, now)) ?? CONTROL_DATABASE;
}

/**
 * Where a lookup reads besides the control database: the shard of the event's day, also when the
 * event is past every retention by now (it may have been recorded there while it was not).
 */
function lookupPlace(dir: Directory, key: LedgerKey): string {
  const ms = eventMs(key);
  return ms === null ? CONTROL_DATABASE : dir.nameFor(key.domain, dayOf(ms * 1000));
}

/**
 * Which of these deliveries already reached the receiver or were refused by it: one query per
 * shard their events are in, and one to the control database for every id (its own rows and
 * those from before the ledger moved), all at once. A batch of the webhooks consumer (at most 300
 * events of at most 3 domains) asks at most one shard per domain and day it holds.
 */
export async function doneDeliveryIds(env: EventsBindings, keys: LedgerKey[], now = Date.now()): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const dir = await directory(env, now);
  // A day of a layout whose databases are no longer bound (a ring shrunk with --force) has nothing to find.
  const shards = [...groupBy(keys, (key) => lookupPlace(dir, key))].filter(([name]) => name !== CONTROL_DATABASE && dir.has(name));
  const found = await Promise.all([
    finishedDeliveryIds(
      env.DB,
      keys.map((key) => key.id),
    ).then((ids) => [...ids]),
    ...shards.map(async ([name, group]) => {
      const { results } = await dir
        .database(name)
        .prepare("SELECT id FROM webhook_ledger WHERE id IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(group.map((key) => key.id)))
        .all<{ id: string }>();
      return results.map((row) => row.id);
    }),
  ]);
  return new Set(found.flat());
}

/**
 * Records finished deliveries: dead letters, and done rows that have no shard, in the control
 * database (recordDeliveries); the other done rows in their events' shards, one batch per shard,
 * all at once. A later outcome for the same id replaces the row.
 */
export async function recordFinishedDeliveries(env: EventsBindings, rows: LedgerDelivery[], now = Date.now()): Promise<void> {
  if (rows.length === 0) return;
  const dir = await directory(env, now);
  const dead = rows.filter((row) => row.status === "failed");
  const places = groupBy(
    rows.filter((row) => row.status !== "failed"),
    (row) => recordPlace(dir, row, now),
  );
  const control = [...dead, ...(places.get(CONTROL_DATABASE) ?? [])];
  places.delete(CONTROL_DATABASE);
  await Promise.all([
    recordDeliveries(
      env.DB,
      control.map(({ eventTimestamp: _, ...row }) => row),
    ),
    ...[...places].map(([name, group]) => {
      const db = dir.database(name);
      const insert = db.prepare(`INSERT OR REPLACE INTO webhook_ledger (id, rejected, finished_at) SELECT value->>0, value->>1, value->>2 FROM json_each(?1)`);
      const json = jsonChunks(group.map((row) => [row.id, row.status === "rejected" ? 1 : 0, row.finishedAt]));
      return db.batch(json.map((chunk) => insert.bind(chunk)));
    }),
  ]);
}

/**
 * The statement that empties up to `limit` rows of a shard's ledger finished before `before` (ms):
 * part of emptying a slot (events-store.ts, emptyExpiredSlots), whose days are all past every
 * retention by then. A row finished later (an old event's dead letter replayed late) stays until
 * the ring comes round again. No index on finished_at: nearly every row of a slot being emptied
 * matches, so the scan finds a chunk's rows at once, and an index would add bytes to every delivery.
 */
export function emptyLedgerStatement(db: D1Database, before: number, limit: number): D1PreparedStatement {
  return db.prepare(`DELETE FROM webhook_ledger WHERE id IN (SELECT id FROM webhook_ledger WHERE finished_at < ?1 LIMIT ?2)`).bind(before, limit);
}
