// Deletes rollup rows past their retention in bounded chunks: hourly counters, daily counters and
// dimensions, seen-set rows, and the events store's day keys (db/event-day-keys.ts). The cutoff is the only predicate, so an interrupted purge resumes
// on the next run and never touches newer rows.

const PURGES = {
  hourly:
    "DELETE FROM stats_counters WHERE (domain, tag, resolution, bucket) IN (SELECT domain, tag, resolution, bucket FROM stats_counters WHERE resolution = 'hour' AND bucket < ?1 LIMIT ?2)",
  daily:
    "DELETE FROM stats_counters WHERE (domain, tag, resolution, bucket) IN (SELECT domain, tag, resolution, bucket FROM stats_counters WHERE resolution = 'day' AND bucket < ?1 LIMIT ?2)",
  dimensions:
    "DELETE FROM stats_dimensions WHERE (domain, tag, kind, day, value) IN (SELECT domain, tag, kind, day, value FROM stats_dimensions WHERE day < ?1 LIMIT ?2)",
  // Its cutoff is a day (days since the epoch), not unix seconds: the keys of days that have left the ring.
  dayKeys: "DELETE FROM event_day_keys WHERE (day, key) IN (SELECT day, key FROM event_day_keys WHERE day < ?1 LIMIT ?2)",
  seen: "DELETE FROM stats_seen WHERE (domain, message_id, recipient, scope) IN (SELECT domain, message_id, recipient, scope FROM stats_seen WHERE first_seen < ?1 LIMIT ?2)",
} as const;
export type RollupTable = keyof typeof PURGES;

/** Deletes up to `limit` rows of one kind older than `before` (unix seconds); says how many went. */
export async function deleteRollupsBefore(db: D1Database, table: RollupTable, before: number, limit: number): Promise<number> {
  const result = await db.prepare(PURGES[table]).bind(before, limit).run();
  return result.meta.changes;
}
