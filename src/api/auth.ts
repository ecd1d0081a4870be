// Authentication and roles on every API request, from one table (route-access.ts): the route Hono
// matched names the access it asks for; a public route is served to anyone; any other needs HTTP
// Basic auth `api:<key>` with a key that works now (key-auth.ts: the API_KEY secret or a key of the
// Keys API) and whose role the route allows. Failed attempts are throttled per client address
// (auth-throttle.ts). A refusal answers before any handler runs, so it changes nothing.
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { mayCall, routeParam } from "../domain/access";
import { judgeApiKey, THROTTLED_MESSAGE } from "./auth-throttle";
import type { ApiEnv } from "./context";
import { authenticateKey, grantedPrincipal } from "./key-auth";
import { type RouteRule, ruleOf } from "./route-access";

/** Mailgun's answer to a missing, wrong, expired or deleted key. */
export const UNAUTHORIZED_BODY = { message: "Invalid private key" };
/** The answer to a key that works but whose role the route does not allow. */
export const FORBIDDEN_BODY = { message: "Forbidden" };

function basicCredentials(header: string | undefined): [string, string] | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!match) return null;
  let decoded: string;
  try {
    decoded = atob(match[1]!);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/**
 * The rule of the route that will answer: the first route (not middleware) Hono matched, which is
 * the one it runs. Undefined: no route matched (the answer will be 404). Rule null: a route the
 * table lacks, which the route-table test rules out; it is refused all the same.
 */
function matchedRule(c: Parameters<MiddlewareHandler<ApiEnv>>[0]): { rule: RouteRule | null; path: string } | undefined {
  const route = matchedRoutes(c).find((r) => r.method !== "ALL");
  if (!route) return undefined;
  return { rule: ruleOf(route.method, route.path) ?? null, path: route.path };
}

export const requireAccess: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const matched = matchedRule(c);
  // No route: the 404 says nothing a key would change (the routes are no secret). A public route
  // is for anyone.
  if (!matched || matched.rule?.access === "public") return next();
  let principal = grantedPrincipal(c.req.raw) ?? null;
  if (!principal) {
    // A request that presents credentials is an attempt, counted per client address: a throttled
    // address gets 429 whatever the key. A request without an Authorization header guesses nothing.
    const header = c.req.header("authorization");
    const credentials = basicCredentials(header);
    principal = credentials && credentials[0] === "api" ? await authenticateKey(c.env, credentials[1]) : null;
    const outcome = header === undefined ? "refused" : await judgeApiKey(c.env, c.req.header("cf-connecting-ip") ?? null, !!principal);
    if (outcome === "throttled") return c.json({ message: THROTTLED_MESSAGE }, 429);
    if (outcome === "refused" || !principal) {
      c.header("www-authenticate", 'Basic realm="Tidings API"');
      return c.json(UNAUTHORIZED_BODY, 401);
    }
  }
  const domain = matched.rule?.access === "sending" ? routeParam(matched.path, new URL(c.req.url).pathname, "domain") : null;
  if (!matched.rule || !mayCall(matched.rule.access, principal, domain)) return c.json(FORBIDDEN_BODY, 403);
  await next();
};
