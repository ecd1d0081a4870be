// What a Cloudflare for SaaS custom hostname means for Tidings (pure, no I/O): its schema as the
// Cloudflare API returns it (the fields Tidings reads), the Mailgun x509 status it maps to, the DNS
// records Cloudflare asks for while validation is pending, and the retry backoff.
import * as z from "./zod";

/** Mailgun's x509 statuses (GET /v2/x509/{host}/status). */
export type CertificateStatus = "processing" | "active" | "expired" | "error";
/** Mailgun's `valid` of a DNS record. */
export type RecordValidity = "valid" | "invalid" | "unknown";

export interface RequestedRecord {
  type: "TXT";
  name: string;
  value: string;
}

const validationRecord = z.object({
  txt_name: z.optional(z.string()),
  txt_value: z.optional(z.string()),
  http_url: z.optional(z.string()),
  http_body: z.optional(z.string()),
  status: z.optional(z.string()),
});

/** The custom hostname object (`result` of create, get, edit and of each list item). */
export const customHostnameSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  hostname: z.string(),
  status: z._default(z.string(), ""),
  ssl: z.nullish(
    z.object({
      status: z._default(z.string(), ""),
      method: z.optional(z.string()),
      type: z.optional(z.string()),
      validation_records: z.nullish(z.array(validationRecord)),
      validation_errors: z.nullish(z.array(z.object({ message: z.string() }))),
      expires_on: z.nullish(z.string()),
    }),
  ),
  verification_errors: z.nullish(z.array(z.string())),
  ownership_verification: z.nullish(z.object({ type: z.optional(z.string()), name: z.optional(z.string()), value: z.optional(z.string()) })),
});
export type CustomHostname = z.infer<typeof customHostnameSchema>;

export interface CertificateState {
  status: CertificateStatus;
  /** Cloudflare's own words when something is wrong; "" otherwise. */
  error: string;
  hostnameStatus: string;
  sslStatus: string;
  cname: RecordValidity;
  /** What Cloudflare asks to be published while the hostname or its certificate is pending. */
  dnsRecords: RequestedRecord[];
  /** Unix milliseconds; null before issuance. */
  expiresAt: number | null;
}

// Hostname statuses in which Cloudflare serves the host (https works once ssl is active too).
const SERVING_HOSTNAME = new Set(["active", "active_redeploying"]);
// Hostname statuses that will not become active on their own.
const FAILED_HOSTNAME = new Set(["moved", "deleted", "pending_deletion", "blocked", "pending_blocked", "test_blocked", "test_failed"]);
// ssl.status values meaning the certificate is served ("pending_expiration": still valid, renewal under way).
const SERVING_SSL = new Set(["active", "pending_expiration"]);
// ssl.status values that will not progress without a new request (Cloudflare's *_timed_out states too).
const FAILED_SSL = new Set(["deleted", "pending_deletion", "inactive", "deactivating"]);

/** The Mailgun-shaped state of a tracking host, from Cloudflare's custom hostname. */
export function certificateState(hostname: CustomHostname): CertificateState {
  const hostnameStatus = hostname.status;
  const sslStatus = hostname.ssl?.status ?? "";
  const problems = [...(hostname.verification_errors ?? []), ...(hostname.ssl?.validation_errors ?? []).map((e) => e.message)];
  let status: CertificateStatus;
  if (sslStatus === "expired") status = "expired";
  else if (FAILED_HOSTNAME.has(hostnameStatus) || FAILED_SSL.has(sslStatus) || sslStatus.endsWith("_timed_out")) status = "error";
  else if (SERVING_HOSTNAME.has(hostnameStatus) && SERVING_SSL.has(sslStatus)) status = "active";
  else status = "processing";

  let error = "";
  if (status === "error" || status === "expired") {
    error = problems.join("; ") || `Cloudflare reports hostname status "${hostnameStatus}", certificate status "${sslStatus}"`;
  } else if (status === "processing") {
    // Validation errors while pending are Cloudflare's hints (e.g. the CNAME is missing): shown, not fatal.
    error = problems.join("; ");
  }

  const dnsRecords: RequestedRecord[] = [];
  const ownership = hostname.ownership_verification;
  if (!SERVING_HOSTNAME.has(hostnameStatus) && ownership?.name && ownership.value && (ownership.type ?? "txt") === "txt") {
    dnsRecords.push({ type: "TXT", name: ownership.name, value: ownership.value });
  }
  if (!SERVING_SSL.has(sslStatus)) {
    for (const record of hostname.ssl?.validation_records ?? []) {
      if (record.txt_name && record.txt_value) dnsRecords.push({ type: "TXT", name: record.txt_name, value: record.txt_value });
    }
  }

  // Cloudflare activates a hostname only once it resolves to the zone, so "active" proves the CNAME;
  // its verification errors say when it does not point there (yet).
  const cname: RecordValidity = SERVING_HOSTNAME.has(hostnameStatus)
    ? "valid"
    : (hostname.verification_errors ?? []).some((e) => /cname|resolve|dns/i.test(e))
      ? "invalid"
      : "unknown";

  const expires = hostname.ssl?.expires_on ? Date.parse(hostname.ssl.expires_on) : NaN;
  return { status, error, hostnameStatus, sslStatus, cname, dnsRecords, expiresAt: Number.isFinite(expires) ? expires : null };
}

/** First retry after a failure. Unit: ms (one cron period). */
export const RETRY_FIRST_MS = 5 * 60_000;
/** Longest wait between retries. Unit: ms. */
export const RETRY_MAX_MS = 6 * 3_600_000;

/**
 * Delay before the next check after `attempts` consecutive failures (1, 2, ...): 5 min doubling,
 * at most 6 h, and never sooner than Cloudflare's Retry-After (seconds) when it sent one.
 */
export function retryDelayMs(attempts: number, retryAfterSeconds?: number): number {
  const backoff = Math.min(RETRY_FIRST_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_MS);
  return Math.max(backoff, (retryAfterSeconds ?? 0) * 1000);
}
