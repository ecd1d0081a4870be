// Mailgun's JSON shapes for domains and tracking settings, and the validation of their fields.
import type { CertificateRecord } from "../db/certificates";
import type { DnsCheck } from "../db/dns-checks";
import type { DomainRecord } from "../db/domains";
import type { RecordValidity } from "../domain/custom-hostname";
import { formatRfc1123 } from "../domain/dates";
import type { Env } from "../env";
import { badRequest } from "./errors";

const DOMAIN_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseDomainName(value: string | undefined): string {
  const name = (value ?? "").trim().toLowerCase().replace(/\.$/, "");
  if (!name) throw badRequest("Missing parameter 'name'");
  if (!DOMAIN_NAME.test(name)) throw badRequest(`'${value}' is not a valid domain name`);
  return name;
}

export function parseWebPrefix(value: string): string {
  const prefix = value.trim().toLowerCase();
  if (!DNS_LABEL.test(prefix)) throw badRequest("web_prefix must be a single DNS label (letters, digits, hyphens)");
  return prefix;
}

export function parseWebScheme(value: string): "http" | "https" {
  const scheme = value.trim().toLowerCase();
  if (scheme !== "http" && scheme !== "https") throw badRequest("web_scheme must be http or https");
  return scheme;
}

export function trackingHost(domain: Pick<DomainRecord, "name" | "webPrefix">): string {
  return `${domain.webPrefix}.${domain.name}`;
}

export function domainJson(domain: DomainRecord) {
  return {
    created_at: formatRfc1123(domain.createdAt),
    id: domain.id,
    is_disabled: false,
    name: domain.name,
    require_tls: false,
    skip_verification: false,
    smtp_login: `postmaster@${domain.name}`,
    spam_action: domain.spamAction,
    state: "active",
    type: "custom",
    use_automatic_sender_security: false,
    web_prefix: domain.webPrefix,
    web_scheme: domain.webScheme,
    wildcard: domain.wildcard,
    tracking_host: trackingHost(domain),
    // Not a Mailgun field: how many days this domain's events are kept (2..30).
    retention_days: domain.retentionDays,
  };
}

/**
 * What is known of the tracking CNAME: the newer of the last DNS answer (made against the current
 * CNAME_TARGET) and Cloudflare's view when the host has a certificate; "unknown" when neither has
 * looked.
 */
function cnameState(env: Env, certificate: CertificateRecord | null, check: DnsCheck | null): { valid: RecordValidity; cached: string[] } {
  const checked = check && check.valid !== "unknown" && check.expected === env.CNAME_TARGET ? check : null;
  const cloudflare = certificate && certificate.cname !== "unknown" ? certificate : null;
  if (checked && (!cloudflare || checked.checkedAt >= cloudflare.checkedAt)) return { valid: checked.valid, cached: checked.cached };
  return { valid: cloudflare?.cname ?? "unknown", cached: checked?.cached ?? [] };
}

/**
 * The domain with its DNS records: the tracking CNAME first, then, while Cloudflare's validation
 * of an https host is pending, the TXT records it asks for.
 */
export function domainWithDns(domain: DomainRecord, env: Env, certificate: CertificateRecord | null, check: DnsCheck | null) {
  const pending = certificate && certificate.status !== "active" ? certificate.dnsRecords : [];
  const cname = cnameState(env, certificate, check);
  return {
    domain: domainJson(domain),
    receiving_dns_records: [],
    sending_dns_records: [
      {
        record_type: "CNAME",
        name: trackingHost(domain),
        value: env.CNAME_TARGET,
        valid: cname.valid,
        is_active: true,
        cached: cname.cached,
      },
      ...pending.map((record) => ({ record_type: record.type, name: record.name, value: record.value, valid: "unknown", is_active: true, cached: [] })),
    ],
  };
}

export function trackingJson(domain: DomainRecord) {
  return {
    open: { active: domain.openActive, place_at_the_top: domain.openPlaceAtTop },
    click: { active: domain.clickActive === "htmlonly" ? "htmlonly" : domain.clickActive === "yes" },
    unsubscribe: {
      active: domain.unsubscribeActive,
      html_footer: domain.unsubscribeHtmlFooter,
      text_footer: domain.unsubscribeTextFooter,
    },
    web_scheme: domain.webScheme,
  };
}
