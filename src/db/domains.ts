// Domain records and tracking settings (D1, hand-written SQL over the row type src/db/schema.ts
// declares). Binding: DB.
import type { domains } from "./schema";

export type DomainRecord = typeof domains.$inferSelect;
export type NewDomain = typeof domains.$inferInsert;
export type DomainChanges = Partial<Omit<NewDomain, "name" | "id" | "createdAt">>;
/** A domain as links are made for it: with whether its current tracking host's certificate is active. */
export type SendingDomain = DomainRecord & { httpsReady: boolean };

/** Each field of a record and its column, in the table's order. */
const COLUMNS = new Map<keyof DomainRecord, string>([
  ["name", "name"],
  ["id", "id"],
  ["webPrefix", "web_prefix"],
  ["webScheme", "web_scheme"],
  ["spamAction", "spam_action"],
  ["wildcard", "wildcard"],
  ["openActive", "open_active"],
  ["openPlaceAtTop", "open_place_at_top"],
  ["clickActive", "click_active"],
  ["unsubscribeActive", "unsubscribe_active"],
  ["unsubscribeHtmlFooter", "unsubscribe_html_footer"],
  ["unsubscribeTextFooter", "unsubscribe_text_footer"],
  ["createdAt", "created_at"],
  ["retentionDays", "retention_days"],
]);
/** The fields kept as INTEGER 0/1. */
const FLAGS = new Set<keyof DomainRecord>(["wildcard", "openActive", "openPlaceAtTop", "unsubscribeActive"]);

// Columns under their field names, so a row is a record once its flags are booleans.
const SELECT = [...COLUMNS].map(([field, column]) => `${column} AS "${field}"`).join(", ");
// The certificates table (migration 0005) is keyed by the tracking host: one primary-key probe.
const HTTPS_READY = `EXISTS (SELECT 1 FROM certificates c WHERE c.host = d.web_prefix || '.' || d.name AND c.status = 'active') AS "httpsReady"`;

type Row = Record<string, unknown>;

function recordOf<T extends DomainRecord>(row: Row): T {
  for (const field of FLAGS) row[field] = row[field] === 1;
  if ("httpsReady" in row) row.httpsReady = row.httpsReady === 1;
  return row as T;
}

function columnOf(field: string): string {
  const column = COLUMNS.get(field as keyof DomainRecord);
  if (!column) throw new Error(`domains has no field ${field}`);
  return column;
}

const bound = (field: string, value: unknown) => (FLAGS.has(field as keyof DomainRecord) ? (value ? 1 : 0) : value);

export async function getDomain(db: D1Database, name: string): Promise<SendingDomain | undefined> {
  const row = await db.prepare(`SELECT ${SELECT}, ${HTTPS_READY} FROM domains d WHERE name = ?`).bind(name).first<Row>();
  return row ? recordOf<SendingDomain>(row) : undefined;
}

/** Returns false when a domain of that name (or id) already exists. */
export async function insertDomain(db: D1Database, domain: NewDomain): Promise<boolean> {
  const fields = Object.keys(domain).filter((field) => domain[field as keyof NewDomain] !== undefined);
  const sql = `INSERT INTO domains (${fields.map(columnOf).join(", ")}) VALUES (${fields.map(() => "?").join(", ")}) ON CONFLICT DO NOTHING`;
  const result = await db
    .prepare(sql)
    .bind(...fields.map((field) => bound(field, domain[field as keyof NewDomain])))
    .run();
  return result.meta.changes > 0;
}

export async function updateDomain(db: D1Database, name: string, changes: DomainChanges): Promise<DomainRecord | undefined> {
  const fields = Object.keys(changes).filter((field) => changes[field as keyof DomainChanges] !== undefined);
  if (fields.length === 0) return getDomain(db, name);
  const sql = `UPDATE domains SET ${fields.map((field) => `${columnOf(field)} = ?`).join(", ")} WHERE name = ? RETURNING ${SELECT}`;
  const row = await db
    .prepare(sql)
    .bind(...fields.map((field) => bound(field, changes[field as keyof DomainChanges])), name)
    .first<Row>();
  return row ? recordOf(row) : undefined;
}

export async function deleteDomain(db: D1Database, name: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM domains WHERE name = ?").bind(name).run();
  return result.meta.changes > 0;
}

export async function listDomains(
  db: D1Database,
  options: { limit: number; skip: number; search?: string; descending?: boolean },
): Promise<{ total: number; items: DomainRecord[] }> {
  const where = options.search ? "WHERE instr(name, ?) > 0" : "";
  const search = options.search ? [options.search.toLowerCase()] : [];
  const [items, count] = await Promise.all([
    db
      .prepare(`SELECT ${SELECT} FROM domains ${where} ORDER BY name ${options.descending ? "DESC" : "ASC"} LIMIT ? OFFSET ?`)
      .bind(...search, options.limit, options.skip)
      .all<Row>(),
    db
      .prepare(`SELECT count(*) AS n FROM domains ${where}`)
      .bind(...search)
      .first<{ n: number }>(),
  ]);
  return { total: count?.n ?? 0, items: items.results.map((row) => recordOf(row)) };
}

/** Every domain's name and retention, by name: what the retention purge walks. */
export async function listRetention(db: D1Database): Promise<Array<Pick<DomainRecord, "name" | "retentionDays">>> {
  const rows = await db
    .prepare(`SELECT name, retention_days AS "retentionDays" FROM domains ORDER BY name`)
    .all<Pick<DomainRecord, "name" | "retentionDays">>();
  return rows.results;
}

/** The domain whose current tracking host (<web_prefix>.<name>) is `host`; a prefix is one DNS label. */
export async function getDomainByTrackingHost(db: D1Database, host: string): Promise<SendingDomain | undefined> {
  const dot = host.indexOf(".");
  if (dot <= 0) return undefined;
  const domain = await getDomain(db, host.slice(dot + 1));
  return domain?.webPrefix === host.slice(0, dot) ? domain : undefined;
}
