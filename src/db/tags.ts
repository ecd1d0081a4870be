// The tags table (filled by the stats rollup, db/rollups.ts): read, describe, delete and list for
// the Tags APIs. Deleting a tag keeps its stats, as Mailgun does. A domain's tags are in its stats
// database (stats-shards.ts); the account-wide reads and writes visit each one. Bindings: DB and
// the stats databases.
import type { EventsBindings } from "./shards";
import { statsDatabases } from "./stats-shards";

export interface TagRecord {
  tag: string;
  description: string;
  /** Unix milliseconds. */
  firstSeen: number;
  lastSeen: number;
}

const COLUMNS = "tag, description, first_seen AS firstSeen, last_seen AS lastSeen";

export async function getTag(env: EventsBindings, domain: string, tag: string): Promise<TagRecord | null> {
  return statsDatabases(env).of(domain).prepare(`SELECT ${COLUMNS} FROM tags WHERE domain = ?1 AND tag = ?2`).bind(domain, tag).first<TagRecord>();
}

/** False when the domain has no such tag. */
export async function describeTag(env: EventsBindings, domain: string, tag: string, description: string): Promise<boolean> {
  const result = await statsDatabases(env)
    .of(domain)
    .prepare("UPDATE tags SET description = ?3 WHERE domain = ?1 AND tag = ?2")
    .bind(domain, tag, description)
    .run();
  return result.meta.changes > 0;
}

export async function deleteTag(env: EventsBindings, domain: string, tag: string): Promise<boolean> {
  const result = await statsDatabases(env).of(domain).prepare("DELETE FROM tags WHERE domain = ?1 AND tag = ?2").bind(domain, tag).run();
  return result.meta.changes > 0;
}

export async function countTags(env: EventsBindings, domain: string): Promise<number> {
  return (await statsDatabases(env).of(domain).prepare("SELECT count(*) AS n FROM tags WHERE domain = ?1").bind(domain).first<{ n: number }>())!.n;
}

export type TagPage = "first" | "last" | "next" | "prev";

/**
 * One page of a domain's tags in alphabetical order, Mailgun's legacy paging: `next` after the
 * boundary tag, `prev` before it, `last` the final page; `prefix` narrows the list. Keyset, no OFFSET.
 */
export async function listTags(
  env: EventsBindings,
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
  const { results } = await statsDatabases(env)
    .of(domain)
    .prepare(sql)
    .bind(...params)
    .all<TagRecord>();
  return backwards ? results.reverse() : results;
}

/**
 * Tags of every domain, one item per tag name (first seen, last seen and description over the
 * domains that hold it), most recently seen first: the /v1/analytics/tags listing, with its total.
 * A tag name can be in several stats databases: each gives its first skip + limit names in the
 * page's order (a name whose merged last_seen ranks within the page ranks at least as high in the
 * database holding that last_seen), the merged page is cut, and its names' figures are then summed
 * over every database; the total is the size of the union of names.
 */
export async function listAccountTags(
  env: EventsBindings,
  options: { prefix?: string; skip: number; limit: number; ascending: boolean },
): Promise<{ total: number; items: TagRecord[] }> {
  const where = options.prefix ? "WHERE tag >= ?1 AND tag < ?2" : "";
  const params = options.prefix ? [options.prefix, `${options.prefix}\u{10ffff}`] : [];
  const databases = statsDatabases(env).all();
  const order = options.ascending ? "ASC" : "DESC";
  const aggregate = `SELECT tag, max(description) AS description, min(first_seen) AS firstSeen, max(last_seen) AS lastSeen FROM tags`;
  const parts = await Promise.all(
    databases.map((db) =>
      db.batch<Record<string, unknown>>([
        db.prepare(`${aggregate} ${where} GROUP BY tag ORDER BY lastSeen ${order}, tag LIMIT ${options.skip + options.limit}`).bind(...params),
        db.prepare(`SELECT json_group_array(DISTINCT tag) AS names FROM tags ${where}`).bind(...params),
      ]),
    ),
  );
  const names = new Set<string>();
  for (const [, all] of parts) for (const name of JSON.parse((all!.results[0] as { names: string }).names) as string[]) names.add(name);
  const items = mergeTagRecords(parts.flatMap(([page]) => page!.results as unknown as TagRecord[]))
    .sort((a, b) => (options.ascending ? a.lastSeen - b.lastSeen : b.lastSeen - a.lastSeen) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0))
    .slice(options.skip, options.skip + options.limit);
  if (databases.length === 1 || items.length === 0) return { total: names.size, items };
  // The page's names over every database (a database may hold one below its own cut).
  const json = JSON.stringify(items.map((item) => item.tag));
  const full = await Promise.all(
    databases.map(
      async (db) => (await db.prepare(`${aggregate} WHERE tag IN (SELECT value FROM json_each(?1)) GROUP BY tag`).bind(json).all<TagRecord>()).results,
    ),
  );
  const byName = new Map(mergeTagRecords(full.flat()).map((record) => [record.tag, record]));
  return { total: names.size, items: items.map((item) => byName.get(item.tag) ?? item) };
}

/** One record per tag name: the earliest first seen, the latest last seen, the greatest description (as max() gives). */
function mergeTagRecords(records: TagRecord[]): TagRecord[] {
  const merged = new Map<string, TagRecord>();
  for (const record of records) {
    const into = merged.get(record.tag);
    if (!into) merged.set(record.tag, { ...record });
    else {
      into.firstSeen = Math.min(into.firstSeen, record.firstSeen);
      into.lastSeen = Math.max(into.lastSeen, record.lastSeen);
      if (record.description > into.description) into.description = record.description;
    }
  }
  return [...merged.values()];
}

/** Sets the description of a tag in every domain holding it; false when none does. */
export async function describeAccountTag(env: EventsBindings, tag: string, description: string): Promise<boolean> {
  const changed = await Promise.all(
    statsDatabases(env)
      .all()
      .map(async (db) => (await db.prepare("UPDATE tags SET description = ?2 WHERE tag = ?1").bind(tag, description).run()).meta.changes),
  );
  return changed.some((n) => n > 0);
}

export async function deleteAccountTag(env: EventsBindings, tag: string): Promise<boolean> {
  const changed = await Promise.all(
    statsDatabases(env)
      .all()
      .map(async (db) => (await db.prepare("DELETE FROM tags WHERE tag = ?1").bind(tag).run()).meta.changes),
  );
  return changed.some((n) => n > 0);
}

/** The most tags any one domain holds (the cap is per domain; a domain's tags are in one database). */
export async function mostTagsInADomain(env: EventsBindings): Promise<number> {
  const counts = await Promise.all(
    statsDatabases(env)
      .all()
      .map(async (db) => (await db.prepare("SELECT max(n) AS n FROM (SELECT count(*) AS n FROM tags GROUP BY domain)").first<{ n: number | null }>())?.n ?? 0),
  );
  return Math.max(0, ...counts);
}
