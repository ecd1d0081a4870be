// Mailgun's JSON shapes for domains and tracking settings, and the validation of their fields.
import type { CertificateRecord } from "../db/certificates";
import type { DomainRecord } from "../db/domains";
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
 * The domain with its DNS records. Tidings resolves no DNS itself: the tracking CNAME is "valid"
 * or "invalid" as Cloudflare saw it when the host has a certificate, "unknown" otherwise; while
 * Cloudflare's validation is pending, the TXT records it asks for follow the CNAME.
 */
export function domainWithDns(domain: DomainRecord, env: Env, certificate: CertificateRecord | null) {
  const pending = certificate && certificate.status !== "active" ? certificate.dnsRecords : [];
  return {
    domain: domainJson(domain),
    receiving_dns_records: [],
    sending_dns_records: [
      {
        record_type: "CNAME",
        name: trackingHost(domain),
        value: env.CNAME_TARGET,
        valid: certificate?.cname ?? "unknown",
        is_active: true,
        cached: [],
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
