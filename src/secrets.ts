// Every secret the Worker reads, in one list: typed from here in src/env.ts, printed as
// `wrangler secret put` commands by `npm run deploy:plan`, documented in docs/deploy.md. Secrets
// live in .dev.vars locally and in `wrangler secret put --env production` deployed, never in
// wrangler.toml; the required ones are also listed in its [env.production.secrets], so that
// `wrangler deploy` refuses to create the Worker without them (test/node/deploy-plan.test.ts
// keeps the two lists equal). Plain data, no imports: Node-side tools read it too.

export interface SecretSpec {
  readonly name: string;
  /** Required: the Worker is not deployed without it. Optional: a feature is off without it. */
  readonly required: boolean;
  /** What it is. */
  readonly what: string;
  /** What breaks while it is not set. */
  readonly without: string;
}

export const SECRETS = [
  {
    name: "API_KEY",
    required: true,
    what: "Password of HTTP Basic auth `api:<API_KEY>`: the bootstrap admin key of the API and of the panel's sign-in.",
    without: "Only keys made with the Keys API (/v1/keys) sign in; with none of those either, the API and the panel refuse everyone (401).",
  },
  {
    name: "TRACKING_SECRET",
    required: true,
    what: 'Root secret that per-domain keys are derived from: signed tokens and VERP tags by HMAC, sealed tokens by HKDF (docs/storage.md, "Tokens").',
    without:
      "Prepare and send fail (no tracking links can be made), the edge records no open, click or unsubscribe, and returned bounces match no message. Changing it breaks every link already sent unless the old one is kept in TRACKING_SECRETS_PREVIOUS under its key version.",
  },
  {
    name: "TRACKING_SECRETS_PREVIOUS",
    required: false,
    what: 'Retired tracking secrets still honoured after a rotation: "version:secret,version:secret" (TRACKING_KEY_VERSION names the current one).',
    without:
      "After a rotation, links and return paths made with a retired secret stop working: their opens, clicks and unsubscribes are not recorded (a click goes to CLICK_FALLBACK_URL or a plain page) and their bounces match no message. Harmless before the first rotation.",
  },
  {
    name: "SMTP_RELAY_PASSWORD",
    required: false,
    what: "Password the Worker authenticates to the SMTP relay with (AUTH, with SMTP_RELAY_USER).",
    without:
      "A relay that requires AUTH refuses every delivery: messages retry on Mailgun's schedule, then fail. Not needed for a relay that accepts the Worker without AUTH.",
  },
  {
    name: "CLOUDFLARE_API_TOKEN",
    required: false,
    what: "API token with Zone / SSL and Certificates / Edit on the Cloudflare for SaaS zone (CLOUDFLARE_ZONE_ID).",
    without:
      "HTTPS tracking hosts are off: a domain with web_scheme=https keeps http links, its certificate status says so, and a deleted domain's custom hostname is not removed at Cloudflare.",
  },
] as const satisfies readonly SecretSpec[];

export type SecretName = (typeof SECRETS)[number]["name"];
type RequiredSecretName = Extract<(typeof SECRETS)[number], { required: true }>["name"];

/** The secrets as the Worker sees them: a required one is a string, an optional one may be absent. */
export type Secrets = { [K in RequiredSecretName]: string } & { [K in Exclude<SecretName, RequiredSecretName>]?: string };
