// Moves what the control database's stats tables hold of tags and the unique-open/click seen-set
// (rolled up before the stats databases existed) into each domain's stats database, where the
// rollup and the Tags APIs now look, in bounded chunks from the cron. Each chunk is idempotent: the
// rows are merged into the stats database (earliest first-seen, latest last-seen, a description
// kept) before they are deleted from the control database, so a chunk cut short is merged again
// harmlessly. Counters are not moved (a sum cannot be merged twice safely): readers add the control
// database's to the stats databases' until they age out (stats-store.ts). Bindings: DB and the
// stats databases.
import { jsonChunks } from "./json-chunks";
import type { EventsBindings } from "./shards";
import { statsDatabases } from "./stats-shards";

const MOVES = {
  tags: {
    read: "SELECT domain, tag, description, first_seen, last_seen FROM tags LIMIT ?1",
    merge: `INSERT INTO tags (domain, tag, description, first_seen, last_seen)
      SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?1) WHERE true
      ON CONFLICT (domain, tag) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),
        last_seen = max(last_seen, excluded.last_seen),
        description = CASE WHEN description = '' THEN excluded.description ELSE description END`,
    remove: "DELETE FROM tags WHERE (domain, tag) IN (SELECT value->>0, value->>1 FROM json_each(?1))",
  },
  seen: {
    read: "SELECT domain, message_id, recipient, scope, first_seen FROM stats_seen LIMIT ?1",
    merge: `INSERT INTO stats_seen (domain, message_id, recipient, scope, first_seen)
      SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?1) WHERE true
      ON CONFLICT (domain, message_id, recipient, scope) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen)`,
    remove: "DELETE FROM stats_seen WHERE (domain, message_id, recipient, scope) IN (SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?1))",
  },
} as const;

export interface LegacyMove {
  moved: number;
  /** True when the chunk budget ran out with rows left. */
  unfinished: boolean;
}

/** Moves up to `chunks` chunks of `rows` rows; nothing when the control database keeps the stats itself. */
export async function moveLegacyStats(env: EventsBindings, rows: number, chunks: number): Promise<LegacyMove> {
  const stats = statsDatabases(env);
  const report: LegacyMove = { moved: 0, unfinished: false };
  if (stats.count === 0) return report;
  for (const move of Object.values(MOVES)) {
    for (;;) {
      if (chunks-- <= 0) return { ...report, unfinished: true };
      const results = await env.DB.prepare(move.read).bind(rows).raw<[string, ...unknown[]]>();
      if (results.length === 0) break;
      const byDatabase = new Map<string, unknown[][]>();
      for (const row of results) {
        const name = stats.nameOf(row[0]);
        const list = byDatabase.get(name);
        if (list) list.push(row);
        else byDatabase.set(name, [row]);
      }
      for (const [name, list] of byDatabase) {
        const db = stats.database(name);
        await db.batch(jsonChunks(list).map((json) => db.prepare(move.merge).bind(json)));
      }
      await env.DB.batch(jsonChunks(results).map((json) => env.DB.prepare(move.remove).bind(json)));
      report.moved += results.length;
      if (results.length < rows) break;
    }
  }
  return report;
}
