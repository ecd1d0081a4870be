// The SQL behind listing, reading and removing suppressions: one description per kind, so the
// DomainState methods stay one code path for all four tables.
import type { SuppressionKind, SuppressionListQuery, SuppressionRow } from "../domain/suppression-list";

interface KindTable {
  table: string;
  /** The column records are keyed and sorted by. */
  key: string;
  /** Selects `key`, `created_at` and the kind's own columns. */
  columns: string;
  /** Unsubscribes keep one row per tag: group them back into one record per address. */
  groupBy: string;
  toRow(row: Record<string, SqlStorageValue>): SuppressionRow;
}

const base = (row: Record<string, SqlStorageValue>) => ({ key: String(row.key), createdAt: Number(row.created_at) });

export const KIND_TABLES: Record<SuppressionKind, KindTable> = {
  bounces: {
    table: "bounces",
    key: "address",
    columns: "address AS key, code, error, created_at",
    groupBy: "",
    toRow: (row) => ({ ...base(row), code: Number(row.code), error: String(row.error) }),
  },
  unsubscribes: {
    table: "unsubscribes",
    key: "address",
    columns: "address AS key, json_group_array(tag) AS tags, MIN(created_at) AS created_at",
    groupBy: "GROUP BY address",
    toRow: (row) => ({ ...base(row), tags: (JSON.parse(String(row.tags)) as string[]).sort() }),
  },
  complaints: {
    table: "complaints",
    key: "address",
    columns: "address AS key, created_at",
    groupBy: "",
    toRow: base,
  },
  whitelists: {
    table: "allowlist",
    key: "value",
    columns: "value AS key, type, reason, created_at",
    groupBy: "",
    toRow: (row) => ({ ...base(row), type: row.type === "domain" ? "domain" : "address", reason: String(row.reason) }),
  },
};

const escapeLike = (text: string) => text.replace(/[\\%_]/g, "\\$&");

/** One page in ascending order: `previous` and `last` read backwards, then turn around. */
export function listQuerySql(kind: SuppressionKind, query: SuppressionListQuery): { sql: string; params: SqlStorageValue[]; reversed: boolean } {
  const t = KIND_TABLES[kind];
  const where: string[] = [];
  const params: SqlStorageValue[] = [];
  if (query.term) {
    where.push(`${t.key} LIKE ? ESCAPE '\\'`);
    params.push(`${escapeLike(query.term)}%`);
  }
  if (query.address !== undefined && query.page === "next") where.push(`${t.key} > ?`), params.push(query.address);
  if (query.address !== undefined && query.page === "previous") where.push(`${t.key} < ?`), params.push(query.address);
  const reversed = query.page === "previous" || query.page === "last";
  params.push(query.limit);
  const sql = `SELECT ${t.columns} FROM ${t.table} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ${t.groupBy}
    ORDER BY ${t.key} ${reversed ? "DESC" : "ASC"} LIMIT ?`;
  return { sql, params, reversed };
}

export function getOneSql(kind: SuppressionKind): string {
  const t = KIND_TABLES[kind];
  return `SELECT ${t.columns} FROM ${t.table} WHERE ${t.key} = ? ${t.groupBy}`;
}
