// The `certificates` table (migration 0005): each tracking host's Cloudflare custom hostname and
// its Mailgun-shaped certificate status. All SQL for it is here. Binding: DB.
import type { CertificateState, CertificateStatus, RecordValidity, RequestedRecord } from "../domain/custom-hostname";

export interface CertificateRecord extends CertificateState {
  host: string;
  domain: string;
  hostnameId: string | null;
  attempts: number;
  nextCheckAt: number;
  checkedAt: number;
  createdAt: number;
}

interface Row {
  host: string;
  domain: string;
  hostname_id: string | null;
  status: CertificateStatus;
  error: string;
  hostname_status: string;
  ssl_status: string;
  cname: RecordValidity;
  dns_records: string;
  expires_at: number | null;
  attempts: number;
  next_check_at: number;
  checked_at: number;
  created_at: number;
}

function fromRow(row: Row): CertificateRecord {
  return {
    host: row.host,
    domain: row.domain,
    hostnameId: row.hostname_id,
    status: row.status,
    error: row.error,
    hostnameStatus: row.hostname_status,
    sslStatus: row.ssl_status,
    cname: row.cname,
    dnsRecords: JSON.parse(row.dns_records) as RequestedRecord[],
    expiresAt: row.expires_at,
    attempts: row.attempts,
    nextCheckAt: row.next_check_at,
    checkedAt: row.checked_at,
    createdAt: row.created_at,
  };
}

export async function getCertificate(db: D1Database, host: string): Promise<CertificateRecord | null> {
  const row = await db.prepare("SELECT * FROM certificates WHERE host = ?").bind(host).first<Row>();
  return row ? fromRow(row) : null;
}

/**
 * Marks the host `processing` for a new request, atomically: inserts it, or takes over an existing
 * row only when its status is one of `from`. False when the row exists in another status (the
 * caller answers 409). `holdUntil` keeps the cron off the row while the caller talks to Cloudflare.
 */
export async function claimCertificate(
  db: D1Database,
  claim: { host: string; domain: string; from: CertificateStatus[]; now: number; holdUntil: number },
): Promise<boolean> {
  // The statuses are this module's own literals (CertificateStatus), never request input.
  const allowed = claim.from.map((s) => `'${s}'`).join(", ") || "NULL";
  const result = await db
    .prepare(
      `INSERT INTO certificates (host, domain, status, next_check_at, checked_at, created_at) VALUES (?1, ?2, 'processing', ?3, ?4, ?4)
       ON CONFLICT (host) DO UPDATE SET domain = excluded.domain, status = 'processing', error = '', attempts = 0, next_check_at = excluded.next_check_at
       WHERE certificates.status IN (${allowed})`,
    )
    .bind(claim.host, claim.domain, claim.holdUntil, claim.now)
    .run();
  return result.meta.changes > 0;
}

/** Stores what Cloudflare answered; `attempts` counts consecutive checks that found it failed (0 otherwise). */
export async function saveCertificateState(
  db: D1Database,
  host: string,
  hostnameId: string,
  state: CertificateState,
  times: { now: number; nextCheckAt: number; attempts: number },
): Promise<void> {
  await db
    .prepare(
      `UPDATE certificates SET hostname_id = ?2, status = ?3, error = ?4, hostname_status = ?5, ssl_status = ?6, cname = ?7,
       dns_records = ?8, expires_at = ?9, attempts = ?12, next_check_at = ?10, checked_at = ?11 WHERE host = ?1`,
    )
    .bind(
      host,
      hostnameId,
      state.status,
      state.error,
      state.hostnameStatus,
      state.sslStatus,
      state.cname,
      JSON.stringify(state.dnsRecords),
      state.expiresAt,
      times.nextCheckAt,
      times.now,
      times.attempts,
    )
    .run();
}

/**
 * Stores a failed call to Cloudflare. An active certificate (or one that was active before a
 * re-issue request, `wasActive`) stays active: Cloudflare still serves it, only our call failed.
 * Any other becomes `error` with Cloudflare's message. `forgetHostname` clears the id when
 * Cloudflare no longer knows it (and then nothing is served either).
 */
export async function saveCertificateFailure(
  db: D1Database,
  host: string,
  failure: { error: string; attempts: number; now: number; nextCheckAt: number; forgetHostname?: boolean; wasActive?: boolean },
): Promise<void> {
  await db
    .prepare(
      `UPDATE certificates SET status = CASE WHEN (status = 'active' OR ?7 = 1) AND ?6 = 0 THEN 'active' ELSE 'error' END, error = ?2, attempts = ?3,
       next_check_at = ?4, checked_at = ?5, hostname_id = CASE WHEN ?6 = 1 THEN NULL ELSE hostname_id END WHERE host = ?1`,
    )
    .bind(host, failure.error, failure.attempts, failure.nextCheckAt, failure.now, failure.forgetHostname ? 1 : 0, failure.wasActive ? 1 : 0)
    .run();
}

/** Rows due for a check, oldest first, and whether their domain still exists. */
export async function listDueCertificates(db: D1Database, now: number, limit: number): Promise<Array<CertificateRecord & { domainExists: boolean }>> {
  const { results } = await db
    .prepare(
      `SELECT c.*, EXISTS (SELECT 1 FROM domains d WHERE d.name = c.domain) AS domain_exists
       FROM certificates c WHERE c.next_check_at <= ? ORDER BY c.next_check_at LIMIT ?`,
    )
    .bind(now, limit)
    .all<Row & { domain_exists: number }>();
  return results.map((row) => ({ ...fromRow(row), domainExists: row.domain_exists === 1 }));
}

export async function deleteCertificate(db: D1Database, host: string): Promise<void> {
  await db.prepare("DELETE FROM certificates WHERE host = ?").bind(host).run();
}

/** Makes a deleted domain's hosts due at once, so the next cron run retires them at Cloudflare. */
export async function expediteCertificates(db: D1Database, domain: string): Promise<void> {
  await db.prepare("UPDATE certificates SET next_check_at = 0 WHERE domain = ?").bind(domain).run();
}
