// Many events of one domain written straight into its event shards with one recursive CTE per
// day: for the browser test's Logs searches (test/browser/seed.ts, through wrangler's local
// bindings) and for the Logs search timing in `npm run bench` (bench/logs-search.bench.ts, through
// the D1 bindings). Each day's rows go to the shard the Worker's directory gives that day when it
// starts from these bindings (src/domain/event-shards.ts). Each row has the
// columns the Events API filters on and a Mailgun-shaped `body` like the ones the pipeline stores
// (src/domain/tracking-event.ts, src/domain/send-events.ts). Pure: no Node, no bindings.

import { INSERT_PRESENT, UPSERT_COUNTED } from "../../src/db/event-day-keys-sql";
import { keysOfEvents } from "../../src/domain/event-day-keys";
import { CONTROL_DATABASE, DAY_US, dayOf, layoutOfBindings, rollupStateName, shardFor } from "../../src/domain/event-shards";
import { keysCountOfBindings, keysFor } from "../../src/domain/key-databases";
import { messageKeySql } from "../../src/domain/lean-event";
import { statsCountOfBindings, statsTargetsOf } from "../../src/domain/stats-shards";
import type { EventRow } from "../../src/domain/tracking-event";

/** What the seed uses of a D1 database (the Node side has no Workers types). */
interface Database {
  prepare(sql: string): { run(): Promise<unknown>; first<T>(): Promise<T | null>; bind(...values: unknown[]): { run(): Promise<unknown> } };
}

export const BULK_DOMAIN = "bulk.example.com";
export const bulkRecipient = (n: number) => `user${n}@example.org`;
/** Event i belongs to message i / 4 (four events each: clicked, opened, delivered, accepted). */
export const bulkMessageId = (message: number) => `bulk-${message}@${BULK_DOMAIN}`;
export const bulkSubject = (message: number) => `Weekly news ${message}`;

export interface BulkShape {
  events: number;
  /** Recipients user0..user(n-1)@example.org, message m going to user(m % n). */
  recipients: number;
}

/**
 * One day's statements, in order, for the shard holding that day. Newest first: event i happened
 * i × 6 s before `nowMs`; only the events within [lo, hi) µs are written. The last statement
 * answers `n`, the rows written, and `w`, the shard's newest rowid.
 */
function daySeedStatements(nowMs: number, { events, recipients }: BulkShape, lo: number, hi: number): string[] {
  const nowMicros = nowMs * 1000;
  const rows = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${events - 1}),
r AS (
  SELECT printf('bulk%07d', i) AS id, ${nowMicros} - i * 6000000 AS ts,
    CASE i % 4 WHEN 0 THEN 'clicked' WHEN 1 THEN 'opened' WHEN 2 THEN 'delivered' ELSE 'accepted' END AS event,
    printf('user%d@example.org', (i / 4) % ${recipients}) AS recipient,
    printf('bulk-%d@${BULK_DOMAIN}', i / 4) AS message_id,
    printf('Weekly news %d', i / 4) AS subject
  FROM n
)`;
  const domainId = `(SELECT id FROM event_domains WHERE name = '${BULK_DOMAIN}')`;
  // The shard's lean layout (migrations-events/0003) holding bodies as JSON text, as it holds the
  // rows it copied from the layout before: a part per message (its columns, no compressed body),
  // event names as their codes (src/domain/lean-event.ts).
  return [
    `INSERT OR IGNORE INTO event_domains (name) VALUES ('${BULK_DOMAIN}')`,
    `INSERT OR IGNORE INTO event_texts (text) VALUES ('News <news@${BULK_DOMAIN}>')`,
    `${rows}
INSERT OR IGNORE INTO event_texts (text) SELECT DISTINCT subject FROM r WHERE ts >= ${lo} AND ts < ${hi}`,
    `${rows}
INSERT INTO event_parts (hash, domain_id, message_key, message_id, subject_id, from_id, to_header, body)
SELECT DISTINCT NULL, ${domainId}, ${messageKeySql("message_id")}, message_id, (SELECT id FROM event_texts WHERE text = subject),
  (SELECT id FROM event_texts WHERE text = 'News <news@${BULK_DOMAIN}>'), recipient, NULL FROM r WHERE ts >= ${lo} AND ts < ${hi}`,
    `${rows}
INSERT INTO events (domain_id, ts, id, event, severity, recipient, size, part, body)
SELECT ${domainId}, ts, id, CASE event WHEN 'clicked' THEN 6 WHEN 'opened' THEN 5 WHEN 'delivered' THEN 3 ELSE 1 END, NULL, recipient, 2048,
  (SELECT ref FROM event_parts WHERE domain_id = ${domainId} AND message_key = ${messageKeySql("r.message_id")} AND message_id = r.message_id),
  json_patch(
    json_object('id', id, 'event', event, 'timestamp', ts / 1e6, 'log-level', 'info', 'recipient', recipient,
      'recipient-domain', 'example.org',
      'message', json_object('headers', json_object('to', recipient, 'message-id', message_id, 'from', 'News <news@${BULK_DOMAIN}>', 'subject', subject), 'size', 2048),
      'tags', json_array('bulk'), 'campaigns', json_array(), 'user-variables', json_object('batch', 'bulk')),
    CASE event
      WHEN 'accepted' THEN json_object('method', 'http', 'envelope', json_object('sender', 'news@${BULK_DOMAIN}', 'transport', '', 'targets', recipient),
        'flags', json_object('is-authenticated', json('true'), 'is-test-mode', json('false')))
      WHEN 'delivered' THEN json_object('envelope', json_object('transport', 'smtp', 'targets', recipient),
        'flags', json_object('is-authenticated', json('true'), 'is-test-mode', json('false')),
        'delivery-status', json_object('code', 250, 'message', 'OK', 'description', '', 'attempt-no', 1, 'session-seconds', 0.4))
      ELSE json_object('ip', '192.0.2.1', 'geolocation', json_object('country', 'NL', 'region', 'NH', 'city', 'Amsterdam'),
        'client-info', json_object('client-name', 'Firefox', 'client-os', 'Linux', 'client-type', 'browser', 'device-type', 'desktop',
          'user-agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'bot', ''),
        'url', CASE event WHEN 'clicked' THEN 'https://example.org/news' END)
    END)
FROM r WHERE ts >= ${lo} AND ts < ${hi}`,
    `INSERT OR IGNORE INTO event_tag_names (domain_id, name) VALUES (${domainId}, 'bulk')`,
    `INSERT OR IGNORE INTO event_tags (tag, ts, seq)
SELECT (SELECT id FROM event_tag_names WHERE domain_id = ${domainId} AND name = 'bulk'), ts, seq FROM events WHERE domain_id = ${domainId} AND ts >= ${lo} AND ts < ${hi}`,
    `SELECT count(*) AS n, (SELECT max(rowid) FROM events) AS w FROM events WHERE domain_id = ${domainId} AND ts >= ${lo} AND ts < ${hi}`,
  ];
}

/**
 * Writes the bulk domain's events into the shards `databases` (a Worker's bindings by name, the
 * control database "DB" among them) and returns how many were written. Each shard's rollup
 * watermark moves past the seeded rows, so a stats cron run afterwards counts only new events,
 * not this backlog.
 */
export async function seedBulkEvents(databases: Record<string, unknown>, nowMs: number, shape: BulkShape): Promise<number> {
  const layout = { fromDay: 0, ...layoutOfBindings(Object.keys(databases), []) };
  const newest = dayOf(nowMs * 1000);
  const oldest = dayOf((nowMs - (shape.events - 1) * 6000) * 1000);
  let written = 0;
  for (let day = oldest; day <= newest; day++) {
    const name = shardFor(layout, BULK_DOMAIN, day);
    const db = databases[name] as Database;
    const statements = daySeedStatements(nowMs, shape, day * DAY_US, (day + 1) * DAY_US);
    for (const sql of statements.slice(0, -1)) await db.prepare(sql).run();
    const { n, w } = (await db.prepare(statements.at(-1)!).first<{ n: number; w: number | null }>())!;
    written += n;
    // Counted already, as far as the rollup goes: in the stats databases the shard feeds (and the
    // control database, which a stats database starts from on its first rollup of a shard).
    const stats = statsTargetsOf(name, [layout], statsCountOfBindings(Object.keys(databases)));
    for (const target of new Set([CONTROL_DATABASE, ...stats])) {
      await (databases[target] as Database)
        .prepare(
          "INSERT INTO rollup_state (name, last_rowid) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET last_rowid = max(last_rowid, excluded.last_rowid)",
        )
        .bind(rollupStateName(name), w ?? 0)
        .run();
    }
  }
  await seedDayKeys(databases, nowMs, shape);
  return written;
}

/** The bulk events' day keys (docs/storage.md, "`event_day_keys`"), as the events store writes them with its events. */
async function seedDayKeys(databases: Record<string, unknown>, nowMs: number, { events, recipients }: BulkShape): Promise<void> {
  const events4 = ["clicked", "opened", "delivered", "accepted"];
  const rows = Array.from(
    { length: events },
    (_, i) =>
      ({
        domain: BULK_DOMAIN,
        ts: nowMs * 1000 - i * 6_000_000,
        event: events4[i % 4]!,
        recipient: bulkRecipient(Math.floor(i / 4) % recipients),
        messageId: bulkMessageId(Math.floor(i / 4)),
        tags: ["bulk"],
      }) as EventRow,
  );
  const keys = keysOfEvents(rows);
  const names = Object.keys(databases);
  const db = databases[keysFor(BULK_DOMAIN, keysCountOfBindings(names), statsCountOfBindings(names))] as Database;
  await db
    .prepare(UPSERT_COUNTED)
    .bind(JSON.stringify(keys.filter((k) => k.n > 0).map((k) => [k.day, k.key, k.n])))
    .run();
  await db
    .prepare(INSERT_PRESENT)
    .bind(JSON.stringify(keys.filter((k) => k.n === 0).map((k) => [k.day, k.key])))
    .run();
}
