// The tags table (filled by the stats rollup, db/rollups.ts): read, describe, delete and list for
// the Tags APIs. Deleting a tag keeps its stats, as Mailgun does. Bindings: DB.

export interface TagRecord {
  tag: string;
  description: string;
  /** Unix milliseconds. */
  firstSeen: number;
  lastSeen: number;
}

const COLUMNS = "tag, description, first_seen AS firstSeen, last_seen AS lastSeen";

export async function getTag(db: D1Database, domain: string, tag: string): Promise<TagRecord | null> {
  return db.prepare(`SELECT ${COLUMNS} FROM tags WHERE domain = ?1 AND tag = ?2`).bind(domain, tag).first<TagRecord>();
}

/** False when the domain has no such tag. */
export async function describeTag(db: D1Database, domain: string, tag: string, description: string): Promise<boolean> {
  const result = await db.prepare("UPDATE tags SET description = ?3 WHERE domain = ?1 AND tag = ?2").bind(domain, tag, description).run();
  return result.meta.changes > 0;
}

export async function deleteTag(db: D1Database, domain: string, tag: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM tags WHERE domain = ?1 AND tag = ?2").bind(domain, tag).run();
  return result.meta.changes > 0;
}

export async function countTags(db: D1Database, domain: string): Promise<number> {
  return (await db.prepare("SELECT count(*) AS n FROM tags WHERE domain = ?1").bind(domain).first<{ n: number }>())!.n;
}

export type TagPage = "first" | "last" | "next" | "prev";

/**
 * One page of a domain's tags in alphabetical order, Mailgun's legacy paging: `next` after the
 * boundary tag, `prev` before it, `last` the final page; `prefix` narrows the list. Keyset, no OFFSET.
 */
export async function listTags(
  db: D1Database,
  domain: string,
  options: { page: TagPage; limit: number; boundary?: string; prefix?: string },
): Promise<TagRecord[]> {
  const where = ["domain = ?1"];
  const params: unknown[] = [domain];
  if (options.prefix) {
    params.push(options.prefix, `${options.prefix}\u{10ffff}`);
    where.push(`tag >= ?${params.length - 1} AND tag < ?${params.length}`);
  }
  const backwards = options.page === "prev" || options.page === "last";
  if (options.boundary !== undefined && (options.page === "next" || options.page === "prev")) {
    params.push(options.boundary);
    where.push(`tag ${backwards ? "<" : ">"} ?${params.length}`);
  }
  params.push(options.limit);
  const sql = `SELECT ${COLUMNS} FROM tags WHERE ${where.join(" AND ")} ORDER BY tag ${backwards ? "DESC" : "ASC"} LIMIT ?${params.length}`;
  const { results } = await db
    .prepare(sql)
    .bind(...params)
    .all<TagRecord>();
  return backwards ? results.reverse() : results;
}

/**
 * Tags of every domain, one item per tag name (first seen, last seen and description over the
 * domains that hold it), most recently seen first: the /v1/analytics/tags listing, with its total.
 */
export async function listAccountTags(
  db: D1Database,
  options: { prefix?: string; skip: number; limit: number; ascending: boolean },
): Promise<{ total: number; items: TagRecord[] }> {
  const where = options.prefix ? "WHERE tag >= ?1 AND tag < ?2" : "";
  const params = options.prefix ? [options.prefix, `${options.prefix}\u{10ffff}`] : [];
  const [page, count] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        `SELECT tag, max(description) AS description, min(first_seen) AS firstSeen, max(last_seen) AS lastSeen FROM tags ${where}
         GROUP BY tag ORDER BY lastSeen ${options.ascending ? "ASC" : "DESC"}, tag LIMIT ${options.limit} OFFSET ${options.skip}`,
      )
      .bind(...params),
    db.prepare(`SELECT count(DISTINCT tag) AS n FROM tags ${where}`).bind(...params),
  ]);
  return { total: (count!.results[0] as { n: number }).n, items: page!.results as unknown as TagRecord[] };
}

/** Sets the description of a tag in every domain holding it; false when none does. */
export async function describeAccountTag(db: D1Database, tag: string, description: string): Promise<boolean> {
  return (await db.prepare("UPDATE tags SET description = ?2 WHERE tag = ?1").bind(tag, description).run()).meta.changes > 0;
}

export async function deleteAccountTag(db: D1Database, tag: string): Promise<boolean> {
  return (await db.prepare("DELETE FROM tags WHERE tag = ?1").bind(tag).run()).meta.changes > 0;
}

/** The most tags any one domain holds (the cap is per domain). */
export async function mostTagsInADomain(db: D1Database): Promise<number> {
  const row = await db.prepare("SELECT max(n) AS n FROM (SELECT count(*) AS n FROM tags GROUP BY domain)").first<{ n: number | null }>();
  return row?.n ?? 0;
}
