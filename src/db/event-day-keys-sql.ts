// The day keys' statements (docs/storage.md, "`event_day_keys`"), apart from db/event-day-keys.ts
// so that Node-side seeding (test/support/bulk-events.ts) writes keys exactly as the store does
// without the Workers types. Keys and days travel as JSON arrays unpacked with json_each.

// Counts add up: a batch the queue delivers again counts again, which only makes an estimate larger.
export const UPSERT_COUNTED = `INSERT INTO event_day_keys (day, key, n)
  SELECT value->>0, value->>1, value->>2 FROM json_each(?1) WHERE true
  ON CONFLICT (day, key) DO UPDATE SET n = n + excluded.n`;
// A key that only says "there" (n = 0) is written once: a conflict leaves the row as it is.
export const INSERT_PRESENT = `INSERT OR IGNORE INTO event_day_keys (day, key, n) SELECT value->>0, value->>1, 0 FROM json_each(?1)`;

/** The keys among a key list on a day list, each list one JSON parameter: the primary key (day, key) is probed once per pair. */
export const LOOKUP_KEYS = `SELECT day, key, n FROM event_day_keys
  WHERE day IN (SELECT value FROM json_each(?1)) AND key IN (SELECT value FROM json_each(?2))`;
