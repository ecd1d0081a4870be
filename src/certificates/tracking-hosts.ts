// A tracking host's certificate through its life: requested (created or re-validated at
// Cloudflare), refreshed from Cloudflare's status, retired when its domain is gone. Every
// Cloudflare failure is stored as `error` with Cloudflare's message and retried with backoff; it
// never fails the caller. Shared by the x509 and domains API and the cron step. Binding: DB.
import { type CertificateRecord, claimCertificate, deleteCertificate, getCertificate, saveCertificateFailure, saveCertificateState } from "../db/certificates";
import { type CertificateStatus, type CustomHostname, certificateState, retryDelayMs } from "../domain/custom-hostname";
import { CloudflareError, type CustomHostnames } from "./cloudflare";

/** How long a request keeps the cron off the row it is working on. Unit: ms. */
const REQUEST_HOLD_MS = 60_000;
/** Active certificates are re-read this often, to notice an expiry or a deletion. Unit: ms. */
export const ACTIVE_CHECK_EVERY_MS = 24 * 3_600_000;
/** A status read does not call Cloudflare again within this time of the last answer. Unit: ms. */
const READ_THROUGH_AFTER_MS = 10_000;

/**
 * generate: POST /v2/x509 (a new request unless one is pending or active);
 * regenerate: PUT /v2/x509 (re-validates whatever is not pending);
 * ensure: the domain switched to https (only when the host has no certificate yet).
 */
export type RequestMode = "generate" | "regenerate" | "ensure";
const CLAIMABLE: Record<RequestMode, CertificateStatus[]> = {
  generate: ["error", "expired"],
  regenerate: ["active", "error", "expired"],
  ensure: [],
};

/** Starts a certificate for the host; `started` is false when the stored status does not allow it (nothing is called). */
export async function requestCertificate(
  db: D1Database,
  cloudflare: CustomHostnames,
  target: { host: string; domain: string; mode: RequestMode },
  now: number,
): Promise<{ started: boolean; record: CertificateRecord }> {
  const before = await getCertificate(db, target.host);
  const started = await claimCertificate(db, { host: target.host, domain: target.domain, from: CLAIMABLE[target.mode], now, holdUntil: now + REQUEST_HOLD_MS });
  if (started) {
    // Re-issuing an active certificate: if Cloudflare cannot be reached, it is still served, so it stays active.
    await callAndStore(db, target.host, 0, now, before?.status === "active", async () => {
      if (before?.hostnameId) {
        try {
          return await cloudflare.revalidate(before.hostnameId);
        } catch (error) {
          if (!(error instanceof CloudflareError && error.status === 404)) throw error;
        }
      }
      return createOrAdopt(cloudflare, target.host);
    });
  }
  return { started, record: (await getCertificate(db, target.host))! };
}

/**
 * One check of a stored host (the cron step, and status reads): reads Cloudflare's status, asks
 * again for a failed certificate, creates what a failed request never created, and deletes the
 * hostname of a domain that no longer exists.
 */
export async function refreshCertificate(
  db: D1Database,
  cloudflare: CustomHostnames,
  record: CertificateRecord & { domainExists: boolean },
  now: number,
): Promise<"retired" | CertificateStatus> {
  if (!record.domainExists) {
    try {
      const id = record.hostnameId ?? (await cloudflare.find(record.host))?.id;
      if (id) await cloudflare.delete(id);
      await deleteCertificate(db, record.host);
      return "retired";
    } catch (error) {
      await storeFailure(db, record.host, record.attempts, now, error);
      return "error";
    }
  }
  return callAndStore(db, record.host, record.attempts, now, false, async () => {
    if (!record.hostnameId) return createOrAdopt(cloudflare, record.host);
    const current = await cloudflare.get(record.hostnameId);
    const { status } = certificateState(current);
    // A failed or expired certificate does not recover by itself: restart Cloudflare's validation.
    return status === "error" || status === "expired" ? cloudflare.revalidate(record.hostnameId) : current;
  });
}

/** GET /v2/x509/{host}/status: a pending certificate is read through from Cloudflare (at most every 10 s). */
export async function readCertificate(db: D1Database, cloudflare: CustomHostnames, record: CertificateRecord, now: number): Promise<CertificateRecord> {
  if (record.status !== "processing" || !record.hostnameId || now - record.checkedAt < READ_THROUGH_AFTER_MS) return record;
  await refreshCertificate(db, cloudflare, { ...record, domainExists: true }, now);
  return (await getCertificate(db, record.host)) ?? record;
}

/** A create that timed out may still have happened: Cloudflare then refuses a duplicate, so look it up. */
async function createOrAdopt(cloudflare: CustomHostnames, host: string): Promise<CustomHostname> {
  try {
    return await cloudflare.create(host);
  } catch (error) {
    if (error instanceof CloudflareError && error.status === 409) {
      const existing = await cloudflare.find(host);
      if (existing) return existing;
    }
    throw error;
  }
}

async function callAndStore(
  db: D1Database,
  host: string,
  attempts: number,
  now: number,
  wasActive: boolean,
  call: () => Promise<CustomHostname>,
): Promise<CertificateStatus> {
  let hostname: CustomHostname;
  try {
    hostname = await call();
  } catch (error) {
    await storeFailure(db, host, attempts, now, error, wasActive);
    return "error";
  }
  const state = certificateState(hostname);
  const failed = state.status === "error" || state.status === "expired";
  const nextCheckAt = failed ? now + retryDelayMs(attempts + 1) : state.status === "active" ? now + ACTIVE_CHECK_EVERY_MS : now;
  await saveCertificateState(db, host, hostname.id, state, { now, nextCheckAt, attempts: failed ? attempts + 1 : 0 });
  return state.status;
}

async function storeFailure(db: D1Database, host: string, attempts: number, now: number, error: unknown, wasActive = false): Promise<void> {
  const cloudflareError = error instanceof CloudflareError ? error : null;
  const message = cloudflareError ? cloudflareError.message : `Unexpected answer from the Cloudflare API: ${String(error)}`;
  console.error(JSON.stringify({ msg: "certificate check failed; retried with backoff", host, error: message }));
  await saveCertificateFailure(db, host, {
    error: message,
    attempts: attempts + 1,
    now,
    nextCheckAt: now + retryDelayMs(attempts + 1, cloudflareError?.retryAfterSeconds),
    forgetHostname: cloudflareError?.status === 404,
    wasActive,
  });
}
