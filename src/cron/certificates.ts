// Cron step: checks the tracking-host certificates that are due (pending ones every run, failed
// ones with backoff, active ones daily) against Cloudflare, and retires those of deleted domains.
// Bindings: DB; the Cloudflare API (CLOUDFLARE_ZONE_ID, CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_BASE).
import { CustomHostnames } from "../certificates/cloudflare";
import { refreshCertificate } from "../certificates/tracking-hosts";
import { listDueCertificates } from "../db/certificates";
import type { Env } from "../env";

/** Hosts checked per run: one or two Cloudflare calls each, far below the API's 1,200 calls per 5 minutes. */
export const CERTIFICATE_CHECKS_PER_RUN = 50;

export type CertificateReport = Record<"checked" | "active" | "processing" | "expired" | "error" | "retired", number>;

/** `cloudflare` is for tests that need another timeout; the cron uses the Worker's settings. */
export async function checkCertificates(env: Env, now: number, cloudflare = new CustomHostnames(env)): Promise<CertificateReport> {
  const report: CertificateReport = { checked: 0, active: 0, processing: 0, expired: 0, error: 0, retired: 0 };
  // One at a time: a backlog stays gentle on the API's rate limit, and the run is bounded anyway.
  for (const record of await listDueCertificates(env.DB, now, CERTIFICATE_CHECKS_PER_RUN)) {
    report[await refreshCertificate(env.DB, cloudflare, record, now)]++;
    report.checked++;
  }
  return report;
}
