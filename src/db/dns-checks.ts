// The `dns_checks` table (migration 0006): for each domain's current tracking host, the last DNS
// answer for its CNAME and when to look again. All SQL for it is here. Binding: DB.

export interface DnsCheck {
  host: string;
  domain: string;
  /** The CNAME_TARGET of the last answer; "" before one. */
  expected: string;
  valid: "valid" | "invalid" | "unknown";
  /** The CNAME targets found, as Mailgun lists them under `cached`. */
  cached: string[];
  /** Why the last lookup failed; "" after an answer. */
  error: string;
  attempts: number;
  /** Unix milliseconds. */
  nextCheckAt: number;
  /** Unix milliseconds of the last answer; 0 before one. */
  checkedAt: number;
}

interface Row {
  host: string;
  domain: string;
  expected: string;
  valid: DnsCheck["valid"];
  cached: string;
  error: string;
  attempts: number;
  next_check_at: number;
  checked_at: number;
}

function fromRow(row: Row): DnsCheck {
  return {
    host: row.host,
    domain: row.domain,
    expected: row.expected,
    valid: row.valid,
    cached: JSON.parse(row.cached) as string[],
    error: row.error,
    attempts: row.attempts,
    nextCheckAt: row.next_check_at,
    checkedAt: row.checked_at,
  };
}

export async function getDnsCheck(db: D1Database, host: string): Promise<DnsCheck | null> {
  const row = await db.prepare("SELECT * FROM dns_checks WHERE host = ?").bind(host).first<Row>();
  return row ? fromRow(row) : null;
}

/**
 * Makes `host` the domain's checked host: its row is kept if it exists, else added and due at
 * `now`; the rows of hosts the domain no longer uses (a former prefix) go. One batch.
 */
export async function scheduleDnsCheck(db: D1Database, domain: string, host: string, now: number): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM dns_checks WHERE domain = ? AND host <> ?").bind(domain, host),
    db.prepare("INSERT INTO dns_checks (host, domain, next_check_at) VALUES (?, ?, ?) ON CONFLICT (host) DO NOTHING").bind(host, domain, now),
  ]);
}

/** Stores the outcome of a lookup for the row's host (the row is written whole). */
export async function saveDnsCheck(db: D1Database, check: DnsCheck): Promise<void> {
  await db
    .prepare(
      `INSERT INTO dns_checks (host, domain, expected, valid, cached, error, attempts, next_check_at, checked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (host) DO UPDATE SET domain = excluded.domain, expected = excluded.expected, valid = excluded.valid,
         cached = excluded.cached, error = excluded.error, attempts = excluded.attempts,
         next_check_at = excluded.next_check_at, checked_at = excluded.checked_at`,
    )
    .bind(check.host, check.domain, check.expected, check.valid, JSON.stringify(check.cached), check.error, check.attempts, check.nextCheckAt, check.checkedAt)
    .run();
}

/** The rows due at `now`, oldest first, that still belong to their domain's current tracking host. */
export async function listDueDnsChecks(db: D1Database, now: number, limit: number): Promise<DnsCheck[]> {
  const { results } = await db
    .prepare(
      `SELECT c.* FROM dns_checks c JOIN domains d ON d.name = c.domain AND c.host = d.web_prefix || '.' || d.name
       WHERE c.next_check_at <= ? ORDER BY c.next_check_at LIMIT ?`,
    )
    .bind(now, limit)
    .all<Row>();
  return results.map(fromRow);
}
