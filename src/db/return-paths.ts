// VERP return path ids (src/domain/verp.ts): which message and recipient a bounce address names.
// Written when a message is accepted, into the event shard of its domain and that day (emptied
// with the slot), and read by the email() handler, which knows the day from the address (an
// address made before the day was added to it: every shard of the last 30 days at once) and, on a
// bounce domain, not the domain: it asks that day's shards (point lookups by key).
// Return paths written before the shards are in the control database, purged there by the cron.

import { CONTROL_DATABASE, dayOf, firstStorableDay, MAX_RETENTION_DAYS } from "../domain/event-shards";
import { jsonChunks } from "./json-chunks";
import { type Directory, directory, type EventsBindings } from "./shards";

/**
 * A return path is honoured for its domain's retention, and at least this long, so that a bounce
 * from a remote MTA's queue (Postfix and sendmail give up after 5 days) still suppresses its
 * recipient. Unit: days.
 */
export const RETURN_PATH_MIN_DAYS = 7;
const DAY_MS = 86_400_000;

export interface ReturnPath {
  /** 16 lower-case base32 characters. */
  id: string;
  messageId: string;
  recipient: string;
}

/** A stored return path: also when its message was accepted (ms), which places the message's metadata. */
export interface StoredReturnPath extends ReturnPath {
  createdAt: number;
}

/** Idempotent: an id already stored keeps its row (the same id always names the same delivery). */
export async function saveReturnPaths(env: EventsBindings, domain: string, rows: ReturnPath[], createdAt: number, now = Date.now()): Promise<void> {
  if (rows.length === 0) return;
  const dir = await directory(env, now);
  const name = dir.nameAt(domain, createdAt, now);
  if (name === null) return;
  const db = dir.database(name);
  // Rows travel as JSON (D1 binds at most 100 values per statement), in chunks under D1's value limit.
  const statements = jsonChunks(rows.map((r) => [r.id, r.messageId, r.recipient])).map((json) =>
    db
      .prepare(
        `INSERT OR IGNORE INTO return_paths (domain, id, message_id, recipient, created_at)
         SELECT ?1, value->>0, value->>1, value->>2, ?3 FROM json_each(?2)`,
      )
      .bind(domain, json, createdAt),
  );
  await db.batch(statements);
}

interface ReturnPathRow {
  domain: string;
  id: string;
  message_id: string;
  recipient: string;
  created_at: number;
}

/**
 * Every shard a return path made on `day` (when the address says; else in the last
 * MAX_RETENTION_DAYS) may be in (of one domain, or of all), and the control database.
 */
function lookupShards(dir: Directory, now: number, domain?: string, day?: number): string[] {
  const today = dayOf(now * 1000);
  const names = new Set([CONTROL_DATABASE]);
  const [newest, oldest] = day === undefined ? [today + 1, firstStorableDay(now)] : [Math.min(day, today + 1), Math.max(day, firstStorableDay(now))];
  for (let d = newest; d >= oldest; d--) {
    for (const name of domain === undefined ? dir.namesOfDay(d) : [dir.nameFor(domain, d)]) names.add(name);
  }
  return [...names];
}

/** The rows found, without those past their domain's retention (and RETURN_PATH_MIN_DAYS): they stay until their slot is emptied, unread. */
async function honoured(env: EventsBindings, rows: ReturnPathRow[], now: number): Promise<ReturnPathRow[]> {
  if (rows.length === 0) return rows;
  const { results } = await env.DB.prepare("SELECT name, retention_days AS days FROM domains WHERE name IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify([...new Set(rows.map((row) => row.domain))]))
    .all<{ name: string; days: number }>();
  const days = new Map(results.map((row) => [row.name, row.days]));
  return rows.filter((row) => row.created_at >= now - Math.max(days.get(row.domain) ?? MAX_RETENTION_DAYS, RETURN_PATH_MIN_DAYS) * DAY_MS);
}

const stored = (row: ReturnPathRow): StoredReturnPath & { domain: string } => ({
  domain: row.domain,
  id: row.id,
  messageId: row.message_id,
  recipient: row.recipient,
  createdAt: row.created_at,
});

/** The delivery an id names, or null when it was never stored or is past its domain's retention. */
export async function findReturnPath(env: EventsBindings, domain: string, id: string, now = Date.now(), day?: number): Promise<StoredReturnPath | null> {
  const dir = await directory(env, now);
  const found = await Promise.all(
    lookupShards(dir, now, domain, day).map((name) =>
      dir
        .database(name)
        .prepare("SELECT domain, id, message_id, recipient, created_at FROM return_paths WHERE domain = ?1 AND id = ?2")
        .bind(domain, id)
        .first<ReturnPathRow>(),
    ),
  );
  const [row] = await honoured(
    env,
    found.filter((r): r is ReturnPathRow => r !== null),
    now,
  );
  return row ? stored(row) : null;
}

/**
 * The delivery an id names whatever its domain (a return path on BOUNCE_DOMAIN names none), or
 * null when no row or more than one delivery has it (ids are per-domain HMACs: two alike are a
 * collision, and a report must not pick one of them). Asks every shard of `day` (the address's)
 * at once, or of the last 30 days for an address without one.
 */
export async function findReturnPathById(
  env: EventsBindings,
  id: string,
  now = Date.now(),
  day?: number,
): Promise<(StoredReturnPath & { domain: string }) | null> {
  const dir = await directory(env, now);
  const found = await Promise.all(
    lookupShards(dir, now, undefined, day).map(
      async (name) =>
        (
          await dir
            .database(name)
            .prepare("SELECT domain, id, message_id, recipient, created_at FROM return_paths WHERE id = ?1 LIMIT 2")
            .bind(id)
            .all<ReturnPathRow>()
        ).results,
    ),
  );
  const rows = await honoured(env, found.flat(), now);
  const deliveries = new Set(rows.map((row) => `${row.domain}\u0000${row.id}`));
  return rows.length > 0 && deliveries.size === 1 ? stored(rows[0]!) : null;
}

/**
 * Deletes up to `limit` rows of the control database (return paths written before the event
 * shards) created before `before` (ms); returns how many. The shards' go with their slot.
 */
export async function deleteReturnPathsBefore(env: EventsBindings, domain: string, before: number, limit: number): Promise<number> {
  const result = await env.DB.prepare(
    `DELETE FROM return_paths WHERE (domain, id) IN
         (SELECT domain, id FROM return_paths WHERE domain = ?1 AND created_at < ?2 LIMIT ?3)`,
  )
    .bind(domain, before, limit)
    .run();
  return result.meta.changes;
}
