// API keys in D1 (table api_keys, migrations/0009_keys.sql): created, listed, found by the hash of
// a presented secret or by id, and deleted. The secret is never stored, only its SHA-256.

import type { KeyRole } from "../domain/access";
import type { KeyKind, StoredKey } from "../domain/api-keys";

interface KeyRow {
  id: string;
  role: KeyRole;
  kind: KeyKind;
  domain_name: string | null;
  description: string;
  created_at: number;
  expires_at: number | null;
}

const COLUMNS = "id, role, kind, domain_name, description, created_at, expires_at";

const fromRow = (row: KeyRow): StoredKey => ({
  id: row.id,
  role: row.role,
  kind: row.kind,
  domainName: row.domain_name,
  description: row.description,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
});

/**
 * Stores a new key unless `maxKeys` are already stored (checked in the same statement, so two
 * creations at once cannot both pass it); false when the limit refused it.
 */
export async function insertKey(db: D1Database, key: StoredKey, secretHash: string, maxKeys: number): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO api_keys (id, secret_hash, role, kind, domain_name, description, created_at, expires_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE (SELECT COUNT(*) FROM api_keys) < ?9`,
    )
    .bind(key.id, secretHash, key.role, key.kind, key.domainName, key.description, key.createdAt, key.expiresAt, maxKeys)
    .run();
  return result.meta.changes === 1;
}

/** Every key, newest first, optionally only one kind and/or one domain's (at most MAX_API_KEYS exist). */
export async function listKeys(db: D1Database, filter: { kind?: KeyKind; domainName?: string }): Promise<StoredKey[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR domain_name = ?2) ORDER BY created_at DESC, id`)
    .bind(filter.kind ?? null, filter.domainName ?? null)
    .all<KeyRow>();
  return results.map(fromRow);
}

/** The key whose secret hashes to `secretHash` (expired or not), or null. */
export async function findKeyByHash(db: D1Database, secretHash: string): Promise<StoredKey | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM api_keys WHERE secret_hash = ?1`).bind(secretHash).first<KeyRow>();
  return row ? fromRow(row) : null;
}

/** The key with this id (expired or not), or null. */
export async function findKeyById(db: D1Database, id: string): Promise<StoredKey | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?1`).bind(id).first<KeyRow>();
  return row ? fromRow(row) : null;
}

/** Deletes a key; false when there was none with this id. */
export async function deleteKey(db: D1Database, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM api_keys WHERE id = ?1").bind(id).run();
  return result.meta.changes === 1;
}
