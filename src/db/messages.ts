// Message metadata remembered at prepare/send time and read by the events consumer (and inbound
// reports), so that opens and clicks carry the message's tags, user variables and headers, as
// Mailgun's do. prepare keeps one whole row per recipient (`messages`); a Messages API send keeps
// its facts once (`message_facts`) and per recipient only what differs. Kept in the event shard of
// the message's domain and the day it was sent (docs/storage.md, "Event shards"): an open, click or
// bounce knows that day (its token's issuedAt, its return path's created_at), and the slot is
// emptied with the events, past every retention.
import { CONTROL_DATABASE } from "../domain/event-shards";
import { groupBy } from "../domain/group-by";
import { packedJson, unpackedJson } from "../domain/lean-event";
import type { MessageMetadata } from "../domain/tracking-event";
import { jsonChunks } from "./json-chunks";
import { type Directory, directory, type EventsBindings } from "./shards";

export interface MessageKey {
  domain: string;
  messageId: string;
  recipient: string;
  /**
   * When the message was sent (ms): its tracking tokens' issuedAt, its return paths' created_at.
   * Absent (a legacy VERP address) means the control database, where messages sent before the
   * event shards are.
   */
  sentAt?: number;
}

/** The database holding a domain's messages sent at `sentAt` (ms), or null past every retention (not stored). */
function shardOf(dir: Directory, domain: string, sentAt: number | undefined, now: number): D1Database | null {
  const name = sentAt === undefined ? CONTROL_DATABASE : dir.nameAt(domain, sentAt, now);
  return name === null ? null : dir.database(name);
}

export function messageKey(key: MessageKey): string {
  return `${key.domain}\u0000${key.messageId}\u0000${key.recipient.toLowerCase()}`;
}

export async function saveMessageMetadata(env: EventsBindings, key: MessageKey, metadata: MessageMetadata): Promise<void> {
  const now = Date.now();
  const db = shardOf(await directory(env, now), key.domain, metadata.preparedAt, now);
  if (!db) return;
  await db
    .prepare(
      `INSERT INTO messages (domain, message_id, recipient, tags, user_variables, headers, prepared_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (domain, message_id, recipient) DO UPDATE SET tags = excluded.tags,
         user_variables = excluded.user_variables, headers = excluded.headers, prepared_at = excluded.prepared_at`,
    )
    .bind(
      key.domain,
      key.messageId,
      key.recipient.toLowerCase(),
      JSON.stringify(metadata.tags),
      packedJson(JSON.stringify(metadata.userVariables)),
      packedJson(JSON.stringify(metadata.headers)),
      metadata.preparedAt,
    )
    .run();
}

/** A user_variables or headers column: JSON text, or packed (packedJson) as a BLOB. */
type Packed = string | ArrayBuffer | number[];

interface StoredMetadataRow {
  domain: string;
  message_id: string;
  recipient: string;
  /** The recipient's own row (prepare: all of it; a Messages API send: what differs), or nulls. */
  r_tags: string | null;
  r_user_variables: Packed | null;
  r_headers: Packed | null;
  r_prepared_at: number | null;
  /** The message's row in message_facts (Messages API sends), or nulls. */
  f_tags: string | null;
  f_user_variables: Packed | null;
  f_headers: Packed | null;
  f_prepared_at: number | null;
}

type MetadataRow = { [K in keyof StoredMetadataRow]: StoredMetadataRow[K] extends Packed | null ? string | null : StoredMetadataRow[K] };

const unpacked = (value: Packed | null): string | null => (value === null ? null : unpackedJson(value));

/** A recipient's metadata: its own row read on top of its message's facts, when there are any. */
function mergeMetadata(stored: StoredMetadataRow): MessageMetadata {
  const row: MetadataRow = {
    ...stored,
    r_user_variables: unpacked(stored.r_user_variables),
    r_headers: unpacked(stored.r_headers),
    f_user_variables: unpacked(stored.f_user_variables),
    f_headers: unpacked(stored.f_headers),
  };
  const own =
    row.r_headers === null ? null : { tags: row.r_tags!, userVariables: row.r_user_variables!, headers: row.r_headers, preparedAt: row.r_prepared_at! };
  if (row.f_headers === null) {
    return { tags: JSON.parse(own!.tags), userVariables: JSON.parse(own!.userVariables), headers: JSON.parse(own!.headers), preparedAt: own!.preparedAt };
  }
  // A recipient's variables are the message's filled in for it, so they have the same keys: "{}"
  // in its row means "the message's".
  const ownVariables = own && own.userVariables !== "{}" ? own.userVariables : null;
  return {
    tags: JSON.parse(row.f_tags!) as string[],
    userVariables: JSON.parse(ownVariables ?? row.f_user_variables!) as Record<string, unknown>,
    headers: { ...(JSON.parse(row.f_headers) as Record<string, string>), ...(own ? (JSON.parse(own.headers) as Record<string, string>) : {}) },
    preparedAt: row.f_prepared_at!,
  };
}

/** Looks up many messages in one query per database; keys with no record are absent from the map. */
export async function loadMessageMetadata(env: EventsBindings, keys: MessageKey[]): Promise<Map<string, MessageMetadata>> {
  const found = new Map<string, MessageMetadata>();
  const now = Date.now();
  const dir = await directory(env, now);
  await Promise.all(
    [...groupBy(keys, (key) => shardOf(dir, key.domain, key.sentAt, now))].map(async ([db, dbKeys]) => {
      const wanted = JSON.stringify(dbKeys.map((k) => [k.domain, k.messageId, k.recipient.toLowerCase()]));
      const { results } = await db
        .prepare(
          `SELECT k.value->>0 AS domain, k.value->>1 AS message_id, k.value->>2 AS recipient,
             m.tags AS r_tags, m.user_variables AS r_user_variables, m.headers AS r_headers, m.prepared_at AS r_prepared_at,
             f.tags AS f_tags, f.user_variables AS f_user_variables, f.headers AS f_headers, f.prepared_at AS f_prepared_at
           FROM json_each(?1) AS k
           LEFT JOIN messages AS m ON m.domain = k.value->>0 AND m.message_id = k.value->>1 AND m.recipient = k.value->>2
           LEFT JOIN message_facts AS f ON f.domain = k.value->>0 AND f.message_id = k.value->>1
           WHERE m.headers IS NOT NULL OR f.headers IS NOT NULL`,
        )
        .bind(wanted)
        .all<StoredMetadataRow>();
      for (const row of results) {
        found.set(messageKey({ domain: row.domain, messageId: row.message_id, recipient: row.recipient }), mergeMetadata(row));
      }
    }),
  );
  return found;
}

/** What one recipient of a send has of its own: the headers and variables that differ from the message's. */
export interface RecipientFacts {
  recipient: string;
  headers?: Record<string, string>;
  userVariables?: Record<string, unknown>;
}

/**
 * A Messages API send: the message's facts once (message_facts), and a `messages` row only for the
 * recipients with something of their own, in statements whose JSON parameter stays within
 * MAX_JSON_PARAM_BYTES. One D1 batch, so a failure leaves nothing half-written.
 */
export async function saveSentMessageMetadata(
  env: EventsBindings,
  domain: string,
  messageId: string,
  facts: MessageMetadata,
  recipients: RecipientFacts[],
): Promise<void> {
  const now = Date.now();
  const db = shardOf(await directory(env, now), domain, facts.preparedAt, now);
  if (!db) return;
  const statements = [
    db
      .prepare(
        `INSERT INTO message_facts (domain, message_id, tags, user_variables, headers, prepared_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (domain, message_id) DO UPDATE SET tags = excluded.tags, user_variables = excluded.user_variables,
           headers = excluded.headers, prepared_at = excluded.prepared_at`,
      )
      .bind(
        domain,
        messageId,
        JSON.stringify(facts.tags),
        packedJson(JSON.stringify(facts.userVariables)),
        packedJson(JSON.stringify(facts.headers)),
        facts.preparedAt,
      ),
  ];
  const rows = recipients
    .filter((r) => r.headers !== undefined || r.userVariables !== undefined)
    .map((r) => [r.recipient.toLowerCase(), JSON.stringify(r.headers ?? {}), JSON.stringify(r.userVariables ?? {})]);
  for (const json of jsonChunks(rows)) {
    statements.push(
      db
        .prepare(
          `INSERT INTO messages (domain, message_id, recipient, tags, user_variables, headers, prepared_at)
           SELECT ?1, ?2, value->>0, '[]', value->>2, value->>1, ?3 FROM json_each(?4) WHERE true
           ON CONFLICT (domain, message_id, recipient) DO UPDATE SET tags = excluded.tags,
             user_variables = excluded.user_variables, headers = excluded.headers, prepared_at = excluded.prepared_at`,
        )
        .bind(domain, messageId, facts.preparedAt, json),
    );
  }
  await db.batch(statements);
}

/**
 * Deletes up to `limit` remembered recipients and up to `limit` remembered messages (message_facts)
 * of the control database (messages sent before the event shards) prepared before `before` (ms);
 * returns the larger count, so the caller goes on while either has more. The shards' go with
 * their slot (events-store.ts, emptyExpiredSlots).
 */
export async function deleteMessagesBefore(env: EventsBindings, domain: string, before: number, limit: number): Promise<number> {
  const db = env.DB;
  const [recipients, messages] = await db.batch([
    db
      .prepare(
        `DELETE FROM messages WHERE (domain, message_id, recipient) IN
           (SELECT domain, message_id, recipient FROM messages WHERE domain = ?1 AND prepared_at < ?2 LIMIT ?3)`,
      )
      .bind(domain, before, limit),
    db
      .prepare(
        `DELETE FROM message_facts WHERE (domain, message_id) IN
           (SELECT domain, message_id FROM message_facts WHERE domain = ?1 AND prepared_at < ?2 LIMIT ?3)`,
      )
      .bind(domain, before, limit),
  ]);
  return Math.max(recipients!.meta.changes, messages!.meta.changes);
}
