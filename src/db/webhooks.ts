// Webhooks in the control database: each domain's URLs per webhook id, the account's signing key,
// and its part of the ledger of finished deliveries (webhook_deliveries): the dead letters
// ('failed'), and the done rows ('delivered', 'rejected') that have no event shard or were written
// before the ledger moved beside the events (delivery-ledger.ts routes them). Tables in
// migrations/0003_webhooks.sql.
import { newSigningKey, type WebhookId } from "../domain/webhooks";
import { jsonChunks } from "./json-chunks";

export type WebhookUrls = Map<WebhookId, string[]>;

/** Every webhook of one domain, URLs in the order they were given. */
export async function listWebhooks(db: D1Database, domain: string): Promise<WebhookUrls> {
  return (await webhooksOfDomains(db, [domain])).get(domain) ?? new Map();
}

/** The webhooks of several domains in one query (the events consumer's fan-out). */
export async function webhooksOfDomains(db: D1Database, domains: string[]): Promise<Map<string, WebhookUrls>> {
  const byDomain = new Map<string, WebhookUrls>();
  if (domains.length === 0) return byDomain;
  const { results } = await db
    .prepare("SELECT domain, webhook, url FROM webhooks WHERE domain IN (SELECT value FROM json_each(?1)) ORDER BY domain, webhook, position")
    .bind(JSON.stringify(domains))
    .all<{ domain: string; webhook: WebhookId; url: string }>();
  for (const { domain, webhook, url } of results) {
    let urls = byDomain.get(domain);
    if (!urls) byDomain.set(domain, (urls = new Map()));
    const list = urls.get(webhook);
    if (list) list.push(url);
    else urls.set(webhook, [url]);
  }
  return byDomain;
}

/** Replaces one webhook's URLs (an empty list deletes it), in one transaction. */
export async function setWebhookUrls(db: D1Database, domain: string, webhook: WebhookId, urls: string[]): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM webhooks WHERE domain = ?1 AND webhook = ?2").bind(domain, webhook),
    ...urls.map((url, position) =>
      db.prepare("INSERT INTO webhooks (domain, webhook, url, position) VALUES (?1, ?2, ?3, ?4)").bind(domain, webhook, url, position),
    ),
  ]);
}

/** Replaces several webhooks' URL lists at once (the v4 one-URL-many-events calls). */
export async function setManyWebhookUrls(db: D1Database, domain: string, changes: WebhookUrls): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  for (const [webhook, urls] of changes) {
    statements.push(db.prepare("DELETE FROM webhooks WHERE domain = ?1 AND webhook = ?2").bind(domain, webhook));
    urls.forEach((url, position) =>
      statements.push(db.prepare("INSERT INTO webhooks (domain, webhook, url, position) VALUES (?1, ?2, ?3, ?4)").bind(domain, webhook, url, position)),
    );
  }
  if (statements.length > 0) await db.batch(statements);
}

const SIGNING_KEY = "http_signing_key";

/** The account's webhook signing key: a read, except on first use, which makes it (race-free). */
export async function getSigningKey(db: D1Database): Promise<string> {
  const select = db.prepare("SELECT value FROM account_settings WHERE name = ?1").bind(SIGNING_KEY);
  const stored = await select.first<{ value: string }>();
  if (stored) return stored.value;
  const [, read] = await db.batch<{ value: string }>([
    db.prepare("INSERT OR IGNORE INTO account_settings (name, value) VALUES (?1, ?2)").bind(SIGNING_KEY, newSigningKey()),
    select,
  ]);
  return read!.results[0]!.value;
}

export async function regenerateSigningKey(db: D1Database): Promise<string> {
  const key = newSigningKey();
  await db
    .prepare("INSERT INTO account_settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
    .bind(SIGNING_KEY, key)
    .run();
  return key;
}

export type DeliveryStatus = "delivered" | "rejected" | "failed";

export interface FinishedDelivery {
  id: string;
  domain: string;
  webhook: WebhookId;
  url: string;
  eventId: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string;
  /** the event-data, kept only for failed deliveries (the dead-letter list) */
  payload: unknown;
  finishedAt: number;
}

/** Which of these delivery ids the control database has as reached the receiver or refused by it. */
export async function finishedDeliveryIds(db: D1Database, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { results } = await db
    .prepare("SELECT id FROM webhook_deliveries WHERE id IN (SELECT value FROM json_each(?1)) AND status IN ('delivered', 'rejected')")
    .bind(JSON.stringify(ids))
    .all<{ id: string }>();
  return new Set(results.map((row) => row.id));
}

/**
 * Records finished deliveries in the control database in one batch (delivery-ledger.ts decides
 * which); a later outcome for the same id replaces the row. The
 * rows go as JSON parameters cut by bytes (a pack's dead letters carry their events, up to 100 KB
 * each), one statement per parameter.
 */
export async function recordDeliveries(db: D1Database, rows: FinishedDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  const json = rows.map((row) => ({ ...row, payload: row.status === "failed" ? JSON.stringify(row.payload) : null }));
  const insert = db.prepare(
    `INSERT OR REPLACE INTO webhook_deliveries
       (id, domain, webhook, url, event_id, status, attempts, last_status, last_error, payload, finished_at)
     SELECT value->>'id', value->>'domain', value->>'webhook', value->>'url', value->>'eventId', value->>'status',
            value->>'attempts', value->>'lastStatus', value->>'lastError', value->>'payload', value->>'finishedAt'
     FROM json_each(?1)`,
  );
  await db.batch(jsonChunks(json).map((chunk) => insert.bind(chunk)));
}

export interface DeadDelivery {
  id: string;
  webhook: WebhookId;
  url: string;
  eventId: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string;
  event: Record<string, unknown>;
  finishedAt: number;
}

interface DeadRow {
  id: string;
  webhook: WebhookId;
  url: string;
  event_id: string;
  attempts: number;
  last_status: number | null;
  last_error: string;
  payload: string;
  finished_at: number;
}

const toDead = (row: DeadRow): DeadDelivery => ({
  id: row.id,
  webhook: row.webhook,
  url: row.url,
  eventId: row.event_id,
  attempts: row.attempts,
  lastStatus: row.last_status,
  lastError: row.last_error,
  event: JSON.parse(row.payload) as Record<string, unknown>,
  finishedAt: row.finished_at,
});

/** The dead-letter list of a domain, newest first; `before` is the (finishedAt, id) of the last row seen. */
export async function listDeadDeliveries(db: D1Database, domain: string, limit: number, before?: { finishedAt: number; id: string }): Promise<DeadDelivery[]> {
  const { results } = await db
    .prepare(
      `SELECT id, webhook, url, event_id, attempts, last_status, last_error, payload, finished_at FROM webhook_deliveries
       WHERE domain = ?1 AND status = 'failed' AND (?2 IS NULL OR (finished_at, id) < (?2, ?3))
       ORDER BY finished_at DESC, id DESC LIMIT ?4`,
    )
    .bind(domain, before?.finishedAt ?? null, before?.id ?? "", limit)
    .all<DeadRow>();
  return results.map(toDead);
}

export async function getDeadDelivery(db: D1Database, domain: string, id: string): Promise<DeadDelivery | undefined> {
  const row = await db
    .prepare(
      `SELECT id, webhook, url, event_id, attempts, last_status, last_error, payload, finished_at FROM webhook_deliveries
       WHERE domain = ?1 AND id = ?2 AND status = 'failed'`,
    )
    .bind(domain, id)
    .first<DeadRow>();
  return row ? toDead(row) : undefined;
}

export async function deleteDeadDelivery(db: D1Database, domain: string, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM webhook_deliveries WHERE domain = ?1 AND id = ?2 AND status = 'failed'").bind(domain, id).run();
  return result.meta.changes > 0;
}

/**
 * Forgets old ledger rows in one bounded statement: successes once no redelivery can come
 * (`doneBefore`), dead letters after the events they carry have expired (`deadBefore`).
 */
export async function purgeDeliveries(db: D1Database, doneBefore: number, deadBefore: number, limit: number): Promise<number> {
  const result = await db
    .prepare(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries
         WHERE finished_at < ?1 AND (status != 'failed' OR finished_at < ?2)
         ORDER BY finished_at LIMIT ?3)`,
    )
    .bind(doneBefore, deadBefore, limit)
    .run();
  return result.meta.changes;
}
