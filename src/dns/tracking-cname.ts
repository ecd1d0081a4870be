// Checking a domain's tracking CNAME: one lookup, its outcome stored with when to look again. Used
// by PUT /v4/domains/{d}/verify and by the cron step. Setting: DNS_RESOLVER_URL, CNAME_TARGET.
import { type DnsCheck, saveDnsCheck } from "../db/dns-checks";
import { DnsError, normalizeName, resolveCname } from "./resolver";

/** A host whose CNAME is right is looked at again daily, to notice a record removed later. Unit: ms. */
export const VALID_RECHECK_MS = 24 * 3_600_000;
/** A wrong or unanswered one: after 5 minutes, doubling, at most every 6 hours. Unit: ms. */
export const FIRST_RETRY_MS = 5 * 60_000;
export const MAX_RETRY_MS = 6 * 3_600_000;

export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_MS);
}

interface CnameSettings {
  DNS_RESOLVER_URL: string;
  CNAME_TARGET: string;
}

/**
 * Looks the CNAME of `previous.host` up, stores the outcome and returns it. A resolver failure
 * keeps the last answer (valid, cached) and records why; any other error is thrown.
 */
export async function checkTrackingCname(db: D1Database, settings: CnameSettings, previous: DnsCheck, now: number): Promise<DnsCheck> {
  let next: DnsCheck;
  try {
    const cached = await resolveCname(settings.DNS_RESOLVER_URL, previous.host);
    const valid = cached.includes(normalizeName(settings.CNAME_TARGET)) ? "valid" : "invalid";
    const attempts = valid === "valid" ? 0 : previous.attempts + 1;
    next = {
      ...previous,
      expected: settings.CNAME_TARGET,
      valid,
      cached,
      error: "",
      attempts,
      nextCheckAt: now + (valid === "valid" ? VALID_RECHECK_MS : retryDelayMs(attempts)),
      checkedAt: now,
    };
  } catch (error) {
    if (!(error instanceof DnsError)) throw error;
    const attempts = previous.attempts + 1;
    next = { ...previous, error: error.message, attempts, nextCheckAt: now + retryDelayMs(attempts) };
  }
  await saveDnsCheck(db, next);
  return next;
}

/** A row for a host never looked at. */
export function uncheckedHost(domain: string, host: string): DnsCheck {
  return { host, domain, expected: "", valid: "unknown", cached: [], error: "", attempts: 0, nextCheckAt: 0, checkedAt: 0 };
}
