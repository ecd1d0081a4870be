// Cron step: looks up the tracking CNAMEs that are due (a new domain at once, a wrong or
// unanswered one with backoff, a right one daily), so a domain's records show their state without
// anyone pressing "verify". Off when DNS_RESOLVER_URL is empty. Bindings: DB; outbound fetch.
import { listDueDnsChecks } from "../db/dns-checks";
import { checkTrackingCname } from "../dns/tracking-cname";
import type { Env } from "../env";

/** Hosts looked up per run, 10 at a time: one DoH request each. */
export const DNS_CHECKS_PER_RUN = 50;
const CONCURRENCY = 10;

export type DnsCheckReport = Record<"checked" | "valid" | "invalid" | "failed", number>;

export async function checkDnsRecords(env: Env, now: number): Promise<DnsCheckReport> {
  const report: DnsCheckReport = { checked: 0, valid: 0, invalid: 0, failed: 0 };
  if (!env.DNS_RESOLVER_URL) return report;
  const due = await listDueDnsChecks(env.DB, now, DNS_CHECKS_PER_RUN);
  for (let at = 0; at < due.length; at += CONCURRENCY) {
    const outcomes = await Promise.all(due.slice(at, at + CONCURRENCY).map((row) => checkTrackingCname(env.DB, env, row, now)));
    for (const outcome of outcomes) {
      report.checked++;
      if (outcome.error) report.failed++;
      else report[outcome.valid === "valid" ? "valid" : "invalid"]++;
    }
  }
  return report;
}
