// Domains API in Mailgun's shapes: POST/GET /v4/domains, GET/PUT /v4/domains/{name},
// PUT /v4/domains/{name}/verify (the tracking CNAME, looked up over DNS-over-HTTPS; the cron also
// looks it up, src/cron/dns-checks.ts), the same under /v3/domains, and DELETE /v3/domains/{name}.
// A domain whose web_scheme is https gets a certificate for its tracking host (src/certificates/).
// Bindings: DB; the Cloudflare API.
import { type Context, Hono } from "hono";
import { CustomHostnames } from "../certificates/cloudflare";
import { requestCertificate } from "../certificates/tracking-hosts";
import { type CertificateRecord, expediteCertificates, getCertificate } from "../db/certificates";
import { getDnsCheck, scheduleDnsCheck } from "../db/dns-checks";
import { type DomainChanges, type DomainRecord, deleteDomain, getDomain, insertDomain, listDomains, updateDomain } from "../db/domains";
import { checkTrackingCname, uncheckedHost } from "../dns/tracking-cname";
import { randomId } from "../domain/base64url";
// Event retention a domain may choose (Mailgun keeps 2 to 30 days by plan); the event shards' ring is sized by the longest.
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from "../domain/event-shards";
import { MAX_SKIP_ROWS, parseIntInRange } from "../domain/integers";
import { DEFAULT_TRACKING } from "../domain/tracking-settings";
import type { Env } from "../env";
import type { ApiEnv } from "./context";
import { domainJson, domainWithDns, parseDomainName, parseWebPrefix, parseWebScheme, trackingHost } from "./domain-shapes";
import { badRequest, notFound } from "./errors";
import { type Fields, field, readFields, yesNoField } from "./fields";
import { intQuery } from "./query-params";

const SPAM_ACTIONS = new Set(["disabled", "tag", "block"]);
/** Domains per page of GET /v4/domains (Mailgun's default and maximum). */
const DEFAULT_DOMAINS_LIMIT = 100;
const MAX_DOMAINS_LIMIT = 1000;

function parseDomainChanges(fields: Fields): DomainChanges {
  const changes: DomainChanges = {};
  const prefix = field(fields, "web_prefix");
  if (prefix !== undefined) changes.webPrefix = parseWebPrefix(prefix);
  const scheme = field(fields, "web_scheme");
  if (scheme !== undefined) changes.webScheme = parseWebScheme(scheme);
  const spam = field(fields, "spam_action");
  if (spam !== undefined) {
    if (!SPAM_ACTIONS.has(spam)) throw badRequest("spam_action must be disabled, tag or block");
    changes.spamAction = spam;
  }
  const retention = field(fields, "retention_days");
  if (retention !== undefined) {
    const days = parseIntInRange(retention, { min: MIN_RETENTION_DAYS, max: MAX_RETENTION_DAYS });
    if (days === null) throw badRequest(`retention_days must be a whole number of days from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}`);
    changes.retentionDays = days;
  }
  const wildcard = yesNoField(fields, "wildcard");
  if (wildcard !== undefined) changes.wildcard = wildcard;
  return changes;
}

/**
 * The certificate of the domain's tracking host; an https domain without one gets it requested now
 * (a Cloudflare failure is stored on it as `error` and retried by the cron, never failing the call).
 */
async function trackingCertificate(env: Env, domain: DomainRecord): Promise<CertificateRecord | null> {
  const host = trackingHost(domain);
  const existing = await getCertificate(env.DB, host);
  if (existing || domain.webScheme !== "https") return existing;
  return (await requestCertificate(env.DB, new CustomHostnames(env), { host, domain: domain.name, mode: "ensure" }, Date.now())).record;
}

async function createDomain(c: Context<ApiEnv>) {
  const fields = await readFields(c);
  const name = parseDomainName(field(fields, "name"));
  const changes = parseDomainChanges(fields);
  const created = await insertDomain(c.env.DB, {
    name,
    id: randomId(),
    webPrefix: changes.webPrefix ?? "email",
    webScheme: changes.webScheme ?? "http",
    spamAction: changes.spamAction ?? "disabled",
    wildcard: changes.wildcard ?? false,
    retentionDays: changes.retentionDays ?? MAX_RETENTION_DAYS,
    ...DEFAULT_TRACKING,
    createdAt: Date.now(),
  });
  if (!created) throw badRequest(`Domain ${name} already exists`);
  const domain = (await getDomain(c.env.DB, name))!;
  await scheduleDnsCheck(c.env.DB, name, trackingHost(domain), Date.now());
  return c.json({ message: "Domain has been created", ...domainWithDns(domain, c.env, await trackingCertificate(c.env, domain), null) });
}

async function listAllDomains(c: Context<ApiEnv>) {
  const limit = intQuery(c, "limit", { min: 1, max: MAX_DOMAINS_LIMIT, fallback: DEFAULT_DOMAINS_LIMIT });
  const skip = intQuery(c, "skip", { min: 0, max: MAX_SKIP_ROWS, fallback: 0 });
  const sort = c.req.query("sort") ?? "name:asc";
  if (sort !== "name:asc" && sort !== "name:desc") throw badRequest("sort must be name:asc or name:desc");
  const { total, items } = await listDomains(c.env.DB, { limit, skip, search: c.req.query("search"), descending: sort === "name:desc" });
  return c.json({ total_count: total, items: items.map(domainJson) });
}

async function getOneDomain(c: Context<ApiEnv>) {
  const domain = await getDomain(c.env.DB, c.req.param("name")!.toLowerCase());
  if (!domain) throw notFound("Domain not found");
  const host = trackingHost(domain);
  const [certificate, check] = await Promise.all([getCertificate(c.env.DB, host), getDnsCheck(c.env.DB, host)]);
  return c.json(domainWithDns(domain, c.env, certificate, check));
}

async function updateOneDomain(c: Context<ApiEnv>) {
  const changes = parseDomainChanges(await readFields(c));
  const domain = await updateDomain(c.env.DB, c.req.param("name")!.toLowerCase(), changes);
  if (!domain) throw notFound("Domain not found");
  const host = trackingHost(domain);
  await scheduleDnsCheck(c.env.DB, domain.name, host, Date.now()); // a new prefix is a new host
  const [certificate, check] = await Promise.all([trackingCertificate(c.env, domain), getDnsCheck(c.env.DB, host)]);
  return c.json({ message: "Domain has been updated", ...domainWithDns(domain, c.env, certificate, check) });
}

async function verifyOneDomain(c: Context<ApiEnv>) {
  const domain = await getDomain(c.env.DB, c.req.param("name")!.toLowerCase());
  if (!domain) throw notFound("Domain not found");
  const host = trackingHost(domain);
  const check = await checkTrackingCname(c.env.DB, c.env, (await getDnsCheck(c.env.DB, host)) ?? uncheckedHost(domain.name, host), Date.now());
  // A resolver failure is not the caller's fault and there is nothing to retry at once: the
  // records as last known, and why.
  const message = check.error ? `The DNS records could not be checked: ${check.error}` : "Domain DNS records have been updated";
  // An https host's certificate is looked at again by the next cron run instead of hours later.
  const [certificate] = await Promise.all([getCertificate(c.env.DB, host), expediteCertificates(c.env.DB, domain.name)]);
  return c.json({ message, ...domainWithDns(domain, c.env, certificate, check) });
}

export const domainsApi = new Hono<ApiEnv>().delete("/v3/domains/:name", async (c) => {
  const name = c.req.param("name").toLowerCase();
  if (!(await deleteDomain(c.env.DB, name))) throw notFound("Domain not found");
  await expediteCertificates(c.env.DB, name);
  return c.json({ message: "Domain has been deleted" });
});

// Mailgun still serves /v3/domains with the shapes of /v4/domains: mailgun-js 0.22 (and mailgun.js
// before version 9) create, read, list and verify domains there. One handler for both.
for (const base of ["/v3/domains", "/v4/domains"]) {
  domainsApi
    .post(base, createDomain)
    .get(base, listAllDomains)
    .get(`${base}/:name`, getOneDomain)
    .put(`${base}/:name`, updateOneDomain)
    .put(`${base}/:name/verify`, verifyOneDomain);
}
