// Per-recipient message metadata remembered at prepare/send time and read by the events consumer,
// so that opens and clicks carry the message's tags, user variables and headers, as Mailgun's do.
// Kept beside the message's events (same database as databaseFor picks).
import type { MessageMetadata } from "../domain/tracking-event";
import { databaseFor, type EventsBindings } from "./events-store";

export interface MessageKey {
  domain: string;
  messageId: string;
  recipient: string;
}

export function messageKey(key: MessageKey): string {
  return `${key.domain}\u0000${key.messageId}\u0000${key.recipient.toLowerCase()}`;
}

export async function saveMessageMetadata(env: EventsBindings, key: MessageKey, metadata: MessageMetadata): Promise<void> {
  await databaseFor(env, key.domain)
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
      JSON.stringify(metadata.userVariables),
      JSON.stringify(metadata.headers),
      metadata.preparedAt,
    )
    .run();
}

interface MetadataRow {
  domain: string;
  message_id: string;
  recipient: string;
  tags: string;
  user_variables: string;
  headers: string;
  prepared_at: number;
}

/** Looks up many messages in one query per database; keys with no record are absent from the map. */
export async function loadMessageMetadata(env: EventsBindings, keys: MessageKey[]): Promise<Map<string, MessageMetadata>> {
  const found = new Map<string, MessageMetadata>();
  const byDatabase = new Map<D1Database, MessageKey[]>();
  for (const key of keys) {
    const db = databaseFor(env, key.domain);
    const group = byDatabase.get(db);
    if (group) group.push(key);
    else byDatabase.set(db, [key]);
  }
  await Promise.all(
    [...byDatabase].map(async ([db, dbKeys]) => {
      const wanted = JSON.stringify(dbKeys.map((k) => [k.domain, k.messageId, k.recipient.toLowerCase()]));
      const { results } = await db
        .prepare(
          `SELECT m.* FROM json_each(?1) AS k JOIN messages AS m
             ON m.domain = k.value->>0 AND m.message_id = k.value->>1 AND m.recipient = k.value->>2`,
        )
        .bind(wanted)
        .all<MetadataRow>();
      for (const row of results) {
        found.set(messageKey({ domain: row.domain, messageId: row.message_id, recipient: row.recipient }), {
          tags: JSON.parse(row.tags) as string[],
          userVariables: JSON.parse(row.user_variables) as Record<string, unknown>,
          headers: JSON.parse(row.headers) as Record<string, string>,
          preparedAt: row.prepared_at,
        });
      }
    }),
  );
  return found;
}

/** Many recipients of one message in one statement (the rows travel as one JSON parameter). */
export async function saveMessageMetadataMany(env: EventsBindings, domain: string, rows: Array<{ messageId: string; recipient: string; metadata: MessageMetadata }>): Promise<void> {
  if (rows.length === 0) return;
  const json = JSON.stringify(
    rows.map((r) => [r.messageId, r.recipient.toLowerCase(), JSON.stringify(r.metadata.tags), JSON.stringify(r.metadata.userVariables), JSON.stringify(r.metadata.headers), r.metadata.preparedAt]),
  );
  await databaseFor(env, domain)
    .prepare(
      `INSERT INTO messages (domain, message_id, recipient, tags, user_variables, headers, prepared_at)
       SELECT ?1, value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?2) WHERE true
       ON CONFLICT (domain, message_id, recipient) DO UPDATE SET tags = excluded.tags,
         user_variables = excluded.user_variables, headers = excluded.headers, prepared_at = excluded.prepared_at`,
    )
    .bind(domain, json)
    .run();
}

/** Deletes up to `limit` remembered messages prepared before `before` (ms); returns how many. */
export async function deleteMessagesBefore(env: EventsBindings, domain: string, before: number, limit: number): Promise<number> {
  const result = await databaseFor(env, domain)
    .prepare(
      `DELETE FROM messages WHERE (domain, message_id, recipient) IN
         (SELECT domain, message_id, recipient FROM messages WHERE domain = ?1 AND prepared_at < ?2 LIMIT ?3)`,
    )
    .bind(domain, before, limit)
    .run();
  return result.meta.changes;
}
