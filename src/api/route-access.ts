// THE table of who may call which API route: every route of the API app (src/api/*.ts, mounted in
// app.ts), by method and Hono path exactly as registered, with the access it asks for (the levels
// and the rule are in src/domain/access.ts). The auth middleware (auth.ts) reads only this; a test
// fails when a route is missing here or an entry names no route; the README prints it
// (routeAccessMarkdown). Some Mailgun reads are POSTs (analytics logs, metrics and tags queries):
// they are reads here.
import type { Access } from "../domain/access";

export interface RouteRule {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  access: Access;
}

const SUPPRESSIONS = "/v3/:domain/:kind{(?:bounces|unsubscribes|complaints|whitelists)}";

const rule = (method: RouteRule["method"], path: string, access: Access): RouteRule => ({ method, path, access });

export const ROUTE_ACCESS: readonly RouteRule[] = [
  rule("GET", "/", "public"),

  // Domains (v3 and v4 alike) and their tracking settings and certificates
  ...["/v3/domains", "/v4/domains"].flatMap((base) => [
    rule("GET", base, "basic"),
    rule("GET", `${base}/:name`, "basic"),
    rule("POST", base, "developer"),
    rule("PUT", `${base}/:name`, "developer"),
    rule("PUT", `${base}/:name/verify`, "developer"),
  ]),
  rule("DELETE", "/v3/domains/:name", "developer"),
  rule("GET", "/v3/domains/:name/tracking", "basic"),
  rule("PUT", "/v3/domains/:name/tracking/open", "developer"),
  rule("PUT", "/v3/domains/:name/tracking/click", "developer"),
  rule("PUT", "/v3/domains/:name/tracking/unsubscribe", "developer"),
  rule("GET", "/v2/x509/:host/status", "basic"),
  rule("POST", "/v2/x509/:host", "developer"),
  rule("PUT", "/v2/x509/:host", "developer"),

  // Sending: the only routes a domain sending key may call, for its own domain
  rule("POST", "/v3/:domain/messages", "sending"),
  rule("POST", "/v3/:domain/messages.mime", "sending"),
  rule("POST", "/v1/tracking/prepare", "developer"),
  // Stored messages hold whole mails (reset links, personal data): not for read-only keys
  rule("GET", "/v3/domains/:domain/messages/:key", "developer"),
  rule("POST", "/v3/domains/:domain/messages/:key", "developer"),

  // Events and logs
  rule("GET", "/v3/:domain/events", "basic"),
  rule("GET", "/v3/:domain/events/:token", "basic"),
  rule("GET", "/v3http:/*", "basic"),
  rule("GET", "/v3https:/*", "basic"),
  rule("POST", "/v1/analytics/logs", "basic"),

  // Stats, tags and metrics
  rule("GET", "/v3/stats/total", "basic"),
  rule("GET", "/v3/:domain/stats/total", "basic"),
  rule("GET", "/v3/:domain/tags/:tag/stats", "basic"),
  rule("GET", "/v3/:domain/tag/stats", "basic"),
  rule("GET", "/v3/:domain/tags/:tag/stats/aggregates/:which", "basic"),
  rule("GET", "/v3/:domain/tag/stats/aggregates", "basic"),
  rule("GET", "/v3/:domain/tags", "basic"),
  rule("GET", "/v3/:domain/tags/:tag", "basic"),
  rule("GET", "/v3/:domain/tag", "basic"),
  rule("GET", "/v3/domains/:domain/limits/tag", "basic"),
  rule("PUT", "/v3/:domain/tags/:tag", "developer"),
  rule("PUT", "/v3/:domain/tag", "developer"),
  rule("DELETE", "/v3/:domain/tags/:tag", "developer"),
  rule("DELETE", "/v3/:domain/tag", "developer"),
  rule("POST", "/v1/analytics/metrics", "basic"),
  rule("POST", "/v1/analytics/tags", "basic"),
  rule("GET", "/v1/analytics/tags/limits", "basic"),
  rule("PUT", "/v1/analytics/tags", "developer"),
  rule("DELETE", "/v1/analytics/tags", "developer"),

  // Suppressions
  rule("GET", SUPPRESSIONS, "basic"),
  rule("GET", `${SUPPRESSIONS}/:address`, "basic"),
  rule("POST", SUPPRESSIONS, "developer"),
  rule("POST", `${SUPPRESSIONS}/import`, "developer"),
  rule("DELETE", `${SUPPRESSIONS}/:address`, "developer"),
  rule("DELETE", SUPPRESSIONS, "developer"),

  // Webhooks: their URLs and the signing key are secrets, their dead letters whole events
  rule("GET", "/v3/domains/:domain/webhooks", "developer"),
  rule("POST", "/v3/domains/:domain/webhooks", "developer"),
  rule("GET", "/v3/domains/:domain/webhooks/dead-letters", "developer"),
  rule("POST", "/v3/domains/:domain/webhooks/dead-letters/:id/replay", "developer"),
  rule("DELETE", "/v3/domains/:domain/webhooks/dead-letters/:id", "developer"),
  rule("GET", "/v3/domains/:domain/webhooks/:id", "developer"),
  rule("PUT", "/v3/domains/:domain/webhooks/:id", "developer"),
  rule("DELETE", "/v3/domains/:domain/webhooks/:id", "developer"),
  rule("PUT", "/v3/domains/:domain/webhooks/:id/test", "developer"),
  rule("POST", "/v4/domains/:domain/webhooks", "developer"),
  rule("PUT", "/v4/domains/:domain/webhooks", "developer"),
  rule("DELETE", "/v4/domains/:domain/webhooks", "developer"),
  rule("GET", "/v5/accounts/http_signing_key", "developer"),
  rule("POST", "/v5/accounts/http_signing_key", "developer"),

  // Keys
  rule("GET", "/v1/keys", "admin"),
  rule("POST", "/v1/keys", "admin"),
  rule("DELETE", "/v1/keys/:id", "admin"),
];

const byRoute = new Map(ROUTE_ACCESS.map((r) => [`${r.method} ${r.path}`, r]));

/** The rule of the route Hono matched (its method and registered path), if the table has one. */
export const ruleOf = (method: string, path: string): RouteRule | undefined => byRoute.get(`${method} ${path}`);

const WHO: Record<Access, string> = {
  public: "anyone, no key",
  basic: "admin, developer, basic",
  developer: "admin, developer",
  admin: "admin",
  sending: "admin, developer, sending key of `{domain}`",
};

/** A route path as people write it: `{name}` for a parameter, a choice of words as their list. */
function readablePath(path: string): string {
  if (path.endsWith(":/*")) return `${path.slice(0, -2)}//{host}/v3/{domain}/events/{token}`;
  return path.replace(/:(\w+)\{\(\?:([^)]*)\)\}/g, (_, _name: string, words: string) => `{${words.split("|").join(", ")}}`).replace(/:(\w+)/g, "{$1}");
}

/** The table as Markdown, for the README. */
export function routeAccessMarkdown(): string {
  const lines = ["| Method | Route | Who may call it |", "|---|---|---|"];
  for (const r of ROUTE_ACCESS) lines.push(`| ${r.method} | \`${readablePath(r.path)}\` | ${WHO[r.access]} |`);
  return lines.join("\n");
}
