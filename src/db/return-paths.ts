// VERP return path ids (src/domain/verp.ts): which message and recipient a bounce address names.
// Written when a message is accepted, read by the email() handler, purged by the retention cron.
// Kept in the control database: a bounce names its return path by id alone (findReturnPathById),
// so every domain's and day's must be in one place (docs/scale.md says what that costs).

import { jsonChunks } from "./json-chunks";
import type { EventsBindings } from "./shards";

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
export async function saveReturnPaths(env: EventsBindings, domain: string, rows: ReturnPath[], createdAt: number): Promise<void> {
  if (rows.length === 0) return;
  const db = env.DB;
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

/** The delivery an id names, or null when it was never stored or has been purged. */
export async function findReturnPath(env: EventsBindings, domain: string, id: string): Promise<StoredReturnPath | null> {
  const row = await env.DB.prepare("SELECT id, message_id, recipient, created_at FROM return_paths WHERE domain = ?1 AND id = ?2")
    .bind(domain, id)
    .first<{ id: string; message_id: string; recipient: string; created_at: number }>();
  return row ? { id: row.id, messageId: row.message_id, recipient: row.recipient, createdAt: row.created_at } : null;
}

/**
 * The delivery an id names whatever its domain (a return path on BOUNCE_DOMAIN names none), or
 * null when no row or more than one has it (ids are per-domain HMACs: two alike are a collision,
 * and a report must not pick one of them). Every domain's rows share one database today (see
 * the control database), so one query sees them all.
 */
export async function findReturnPathById(env: EventsBindings, id: string): Promise<(StoredReturnPath & { domain: string }) | null> {
  const { results } = await env.DB.prepare("SELECT domain, id, message_id, recipient, created_at FROM return_paths WHERE id = ?1 LIMIT 2")
    .bind(id)
    .all<{ domain: string; id: string; message_id: string; recipient: string; created_at: number }>();
  const [row, other] = results;
  return row && !other ? { domain: row.domain, id: row.id, messageId: row.message_id, recipient: row.recipient, createdAt: row.created_at } : null;
}

/** Deletes up to `limit` rows created before `before` (ms); returns how many. */
export async function deleteReturnPathsBefore(env: EventsBindings, domain: string, before: number, limit: number): Promise<number> {
  const result = await env.DB.prepare(
    `DELETE FROM return_paths WHERE (domain, id) IN
         (SELECT domain, id FROM return_paths WHERE domain = ?1 AND created_at < ?2 LIMIT ?3)`,
  )
    .bind(domain, before, limit)
    .run();
  return result.meta.changes;
}
