// Domain records and tracking settings (D1, through Drizzle). Binding: DB.
import { asc, eq, getTableColumns, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { domains, type DomainRecord } from "./schema";

export type { DomainRecord };
export type NewDomain = typeof domains.$inferInsert;
export type DomainChanges = Partial<Omit<NewDomain, "name" | "id" | "createdAt">>;
/** A domain as links are made for it: with whether its current tracking host's certificate is active. */
export type SendingDomain = DomainRecord & { httpsReady: boolean };

// The certificates table (migration 0005) is keyed by the tracking host: one primary-key probe.
const httpsReady = sql<boolean>`exists (select 1 from certificates c where c.host = ${domains.webPrefix} || '.' || ${domains.name} and c.status = 'active')`.mapWith(Boolean);

export async function getDomain(db: D1Database, name: string): Promise<SendingDomain | undefined> {
  return drizzle(db).select({ ...getTableColumns(domains), httpsReady }).from(domains).where(eq(domains.name, name)).get();
}

/** Returns false when a domain of that name already exists. */
export async function insertDomain(db: D1Database, domain: NewDomain): Promise<boolean> {
  const result = await drizzle(db).insert(domains).values(domain).onConflictDoNothing().run();
  return result.meta.changes > 0;
}

export async function updateDomain(db: D1Database, name: string, changes: DomainChanges): Promise<DomainRecord | undefined> {
  const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
  if (Object.keys(defined).length === 0) return getDomain(db, name);
  return drizzle(db).update(domains).set(defined).where(eq(domains.name, name)).returning().get();
}

export async function deleteDomain(db: D1Database, name: string): Promise<boolean> {
  const result = await drizzle(db).delete(domains).where(eq(domains.name, name)).run();
  return result.meta.changes > 0;
}

export async function listDomains(
  db: D1Database,
  options: { limit: number; skip: number; search?: string; descending?: boolean },
): Promise<{ total: number; items: DomainRecord[] }> {
  const where = options.search ? sql`instr(${domains.name}, ${options.search.toLowerCase()}) > 0` : undefined;
  const orm = drizzle(db);
  const [items, count] = await Promise.all([
    orm
      .select()
      .from(domains)
      .where(where)
      .orderBy(options.descending ? sql`${domains.name} DESC` : asc(domains.name))
      .limit(options.limit)
      .offset(options.skip)
      .all(),
    orm.select({ n: sql<number>`count(*)` }).from(domains).where(where).get(),
  ]);
  return { total: count?.n ?? 0, items };
}

/** The domain whose current tracking host (<web_prefix>.<name>) is `host`; a prefix is one DNS label. */
export async function getDomainByTrackingHost(db: D1Database, host: string): Promise<SendingDomain | undefined> {
  const dot = host.indexOf(".");
  if (dot <= 0) return undefined;
  const domain = await getDomain(db, host.slice(dot + 1));
  return domain?.webPrefix === host.slice(0, dot) ? domain : undefined;
}
