// The stats databases' router (docs/storage.md, "Stats databases"; rules in
// domain/stats-shards.ts): which STATS_<i> binding holds a domain's rollups, which ones an event
// shard's rollup writes to, and where each shard's watermark is. Only the stats modules (rollups,
// stats-store, tags, stats-retention) and the crons through them use it.
import { CONTROL_DATABASE } from "../domain/event-shards";
import { isStatsBinding, statsCountOfBindings, statsFor, statsTargetsOf } from "../domain/stats-shards";
import { directory, type EventsBindings } from "./shards";

export class StatsDatabases {
  constructor(
    /** n: 0 when the control database keeps the stats. */
    readonly count: number,
    private readonly databases: ReadonlyMap<string, D1Database>,
  ) {}

  /** The binding names of every stats database (the control database when there are none). */
  get names(): string[] {
    return [...this.databases.keys()].filter((name) => this.count === 0 || name !== CONTROL_DATABASE);
  }

  nameOf(domain: string): string {
    return statsFor(domain, this.count);
  }

  of(domain: string): D1Database {
    return this.database(this.nameOf(domain));
  }

  database(name: string): D1Database {
    const db = this.databases.get(name);
    if (!db) throw new Error(`stats database ${name} is not bound to this Worker (run \`npm run shards\`)`);
    return db;
  }

  /**
   * The databases to sum counters over for these domains (undefined: every domain): their stats
   * databases, and the control database, which keeps what was rolled up before the stats
   * databases existed (an empty index lookup once that has aged out).
   */
  counterReaders(domains?: string[]): D1Database[] {
    const names = domains ? [...new Set(domains.map((domain) => this.nameOf(domain)))] : this.names;
    if (this.count > 0) names.push(CONTROL_DATABASE);
    return names.map((name) => this.database(name));
  }

  /** Every stats database: what account-wide tag reads and writes visit. */
  all(): D1Database[] {
    return this.names.map((name) => this.database(name));
  }
}

const cache = new WeakMap<object, StatsDatabases>();

/** The Worker's stats databases (the bindings do not change within an isolate). */
export function statsDatabases(env: EventsBindings): StatsDatabases {
  const cached = cache.get(env);
  if (cached) return cached;
  const databases = new Map<string, D1Database>([[CONTROL_DATABASE, env.DB]]);
  for (const [name, value] of Object.entries(env)) if (isStatsBinding(name)) databases.set(name, value as D1Database);
  const result = new StatsDatabases(statsCountOfBindings(databases.keys()), databases);
  cache.set(env, result);
  return result;
}

/** Where one event shard is rolled up to: a stats database, and whether it takes only some of the shard's domains. */
export interface RollupTarget {
  name: string;
  db: D1Database;
  /** Null: every event of the shard is this database's; otherwise the test of a domain. */
  keep: ((domain: string) => boolean) | null;
}

/** The stats databases an event shard's rollup writes to (usually one). */
export async function rollupTargets(env: EventsBindings, shard: string, now: number): Promise<RollupTarget[]> {
  const stats = statsDatabases(env);
  const dir = await directory(env, now);
  const names = statsTargetsOf(shard, dir.layouts, stats.count);
  return names.map((name) => ({
    name,
    db: stats.database(name),
    keep: names.length === 1 ? null : (domain: string) => stats.nameOf(domain) === name,
  }));
}
