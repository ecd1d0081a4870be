// DNS lookups over HTTPS, in the JSON form that Cloudflare's 1.1.1.1 and Google Public DNS answer
// (GET ?name=&type= with Accept: application/dns-json): a Worker has no resolver of its own.
// Used to check that a domain's tracking CNAME points at this deployment. Setting: DNS_RESOLVER_URL;
// no bindings, only outbound fetch.
import * as z from "../domain/zod";

/** How long one lookup may take before it counts as failed. Unit: ms. */
export const DNS_TIMEOUT_MS = 5_000;

/** The resolver could not answer (off, unreachable, timed out, SERVFAIL, malformed answer). */
export class DnsError extends Error {}

const CNAME_TYPE = 5;
/** DNS RCODEs (RFC 1035 4.1.1, RFC 6895): 0 NOERROR and 3 NXDOMAIN are answers; the rest are failures. */
const RCODES: Record<number, string> = { 1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED" };

const answerSchema = z.object({
  Status: z.int(),
  Answer: z.optional(z.array(z.object({ name: z.string(), type: z.int(), data: z.string() }))),
});

/** A DNS name as compared: lower case, without the root's trailing dot. */
export function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, "");
}

/**
 * The CNAME targets of `host` (normally one; none when it has no CNAME or does not exist).
 * Throws DnsError when the resolver gives no answer.
 */
export async function resolveCname(resolverUrl: string, host: string, timeoutMs = DNS_TIMEOUT_MS): Promise<string[]> {
  if (!resolverUrl) throw new DnsError("DNS checks are off (DNS_RESOLVER_URL is empty)");
  const url = new URL(resolverUrl);
  url.searchParams.set("name", host);
  url.searchParams.set("type", "CNAME");
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/dns-json" }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    throw new DnsError(timedOut ? `the DNS resolver did not answer within ${timeoutMs / 1000} s` : `the DNS resolver could not be reached (${String(error)})`);
  }
  if (!response.ok) throw new DnsError(`the DNS resolver answered HTTP ${response.status}`);
  const parsed = answerSchema.safeParse(await response.json().catch(() => null));
  if (!parsed.success) throw new DnsError("the DNS resolver's answer was not DNS JSON");
  const { Status: status, Answer: answers = [] } = parsed.data;
  if (status === 3) return []; // NXDOMAIN: the record is not there (yet)
  if (status !== 0) throw new DnsError(`the DNS resolver answered ${RCODES[status] ?? `RCODE ${status}`}`);
  const wanted = normalizeName(host);
  return answers.filter((a) => a.type === CNAME_TYPE && normalizeName(a.name) === wanted).map((a) => normalizeName(a.data));
}
