// The `dns_checks` table (migration 0006): the last DNS answer for each tracking host's CNAME.
// All SQL for it is here. Binding: DB.

export interface DnsCheck {
  host: string;
  domain: string;
  /** The CNAME_TARGET the answer was compared with. */
  expected: string;
  valid: "valid" | "invalid";
  /** The CNAME targets found, as Mailgun lists them under `cached`. */
  cached: string[];
  /** Unix milliseconds. */
  checkedAt: number;
}

interface Row {
  host: string;
  domain: string;
  expected: string;
  valid: "valid" | "invalid";
  cached: string;
  checked_at: number;
}

export async function getDnsCheck(db: D1Database, host: string): Promise<DnsCheck | null> {
  const row = await db.prepare("SELECT * FROM dns_checks WHERE host = ?").bind(host).first<Row>();
  return row
    ? { host: row.host, domain: row.domain, expected: row.expected, valid: row.valid, cached: JSON.parse(row.cached) as string[], checkedAt: row.checked_at }
    : null;
}

/** Stores the answer for the domain's current tracking host and drops those of hosts it no longer uses. */
export async function saveDnsCheck(db: D1Database, check: DnsCheck): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM dns_checks WHERE domain = ? AND host <> ?").bind(check.domain, check.host),
    db
      .prepare(
        `INSERT INTO dns_checks (host, domain, expected, valid, cached, checked_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (host) DO UPDATE SET domain = excluded.domain, expected = excluded.expected, valid = excluded.valid,
           cached = excluded.cached, checked_at = excluded.checked_at`,
      )
      .bind(check.host, check.domain, check.expected, check.valid, JSON.stringify(check.cached), check.checkedAt),
  ]);
}
