// The Worker's bindings and settings. Written by hand rather than by `wrangler types` because the
// secrets (API_KEY, TRACKING_SECRET) live in .dev.vars / `wrangler secret`, not in wrangler.toml,
// and a generated file would change with whoever ran it last.
import type { DomainState } from "./durable-objects/domain-state";
import type { DeliveryJob } from "./domain/delivery-job";
import type { QueueMessage } from "./domain/queue-messages";
import type { WebhookJob } from "./domain/webhooks";

export interface Env {
  DB: D1Database;
  EVENTS: Queue<QueueMessage>;
  EVENTS_DLQ: Queue<unknown>;
  DELIVERY: Queue<DeliveryJob>;
  /** Packs of up to 100 events for one webhook URL (src/domain/webhook-packs.ts, src/consumers/webhooks.ts). */
  WEBHOOKS: Queue<WebhookJob>;
  /** MIME messages too large for a queue message, by key. */
  MESSAGES: R2Bucket;
  DOMAIN_STATE: DurableObjectNamespace<DomainState>;
  /** Attempts at the API key per client address (wrangler.toml [[ratelimits]]; src/api/auth-throttle.ts). */
  AUTH_THROTTLE: RateLimit;

  /** Password of HTTP Basic auth `api:<API_KEY>` on every API route. */
  API_KEY: string;
  /** Root secret that per-domain keys are derived from: signed tokens and VERP tags by HMAC, sealed tokens by HKDF (docs/storage.md, "Tokens"). */
  TRACKING_SECRET: string;
  /** Key version stamped into new tokens; tokens of older versions need TRACKING_SECRETS_PREVIOUS. */
  TRACKING_KEY_VERSION: string;
  /** Optional "version:secret,version:secret" list of retired secrets still honoured. */
  TRACKING_SECRETS_PREVIOUS?: string;
  /** "signed" (default) or "sealed": the format new tracking links are made in (docs/storage.md, "Tokens"); the edge honours both. */ TRACKING_TOKEN_FORMAT?: string;
  /**
   * The deployment's own hostnames, comma-separated: the API and the panel answer only there, and
   * every domain's links work there. Any other host is a tracking host (src/domain/hosts.ts).
   */
  SHARED_HOSTS: string;
  /** What a domain's tracking CNAME should point at. */
  CNAME_TARGET: string;
  /** When non-empty, links use this origin instead of <web_scheme>://<web_prefix>.<domain>. */
  TRACKING_LINK_BASE: string;
  /** Where an invalid click link redirects; empty shows a plain page. */
  CLICK_FALLBACK_URL: string;
  /**
   * Operator-owned domain, routed by Email Routing to the Worker's email() handler, that every
   * delivery's VERP return path is on (bounce+<id><tag>@BOUNCE_DOMAIN); empty: the sending domain
   * (docs/bounces.md).
   */
  BOUNCE_DOMAIN: string;
  /** The SMTP relay outgoing mail is handed to; empty: deliveries wait and retry. */
  SMTP_RELAY_HOST: string;
  SMTP_RELAY_PORT: string;
  /** starttls, tls or none. */
  SMTP_RELAY_SECURITY: string;
  SMTP_RELAY_USER: string;
  SMTP_RELAY_PASSWORD?: string;
  /** Cloudflare for SaaS zone whose custom hostnames serve HTTPS tracking hosts; empty: HTTPS hosts are off. */
  CLOUDFLARE_ZONE_ID: string;
  /** API token with Zone / SSL and Certificates / Edit on that zone (a secret). */
  CLOUDFLARE_API_TOKEN?: string;
  /** Cloudflare API base URL, https://api.cloudflare.com/client/v4 (tests point it at a local fake). */
  CLOUDFLARE_API_BASE: string;
  /** DNS-over-HTTPS resolver (JSON form) for checking tracking CNAMEs; empty turns the checks off. */
  DNS_RESOLVER_URL: string;
  /**
   * "true" lets webhooks post to loopback, private, link-local and other non-public hosts (local
   * receivers); anything else refuses them at the API and at delivery (src/domain/url-safety.ts).
   */
  WEBHOOK_ALLOW_PRIVATE_URLS: string;
}
