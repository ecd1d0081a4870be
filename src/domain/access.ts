// Who may call what: the roles of API keys (Mailgun's Keys API), the access a route asks for, and
// the decision between them. The table of routes is src/api/route-access.ts; this is the rule it
// is read with. Pure.

/** Mailgun's key roles, the user roles from most to least powerful, then the domain sending role. */
export const KEY_ROLES = ["admin", "developer", "basic", "sending"] as const;
export type KeyRole = (typeof KEY_ROLES)[number];
/** The roles of user keys: the ones that may sign in to the panel. */
export type UserRole = Exclude<KeyRole, "sending">;

/**
 * What a route asks of the key that calls it:
 * - `public`: nothing, no key at all;
 * - `basic`: any user key (read-only data: events, logs, stats, tags, metrics, suppressions, domains);
 * - `developer`: a developer or admin key (every change, and reads of secrets and of stored mail);
 * - `admin`: an admin key (the Keys API);
 * - `sending`: a developer or admin key, or a domain sending key of the route's own `:domain`.
 */
export const ACCESS_LEVELS = ["public", "basic", "developer", "admin", "sending"] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

/** The key a request was made with, as far as access goes. */
export interface Principal {
  /** The key's id; "primary" for the API_KEY secret. */
  id: string;
  role: KeyRole;
  /** The one domain a sending key may send for; null for user keys. */
  domain: string | null;
}

/** The id the bootstrap admin key (the API_KEY secret) goes by in sessions and logs. */
export const PRIMARY_KEY_ID = "primary";
export const PRIMARY_PRINCIPAL: Principal = Object.freeze({ id: PRIMARY_KEY_ID, role: "admin", domain: null });

const RANK: Record<UserRole, number> = { admin: 3, developer: 2, basic: 1 };

function atLeast(role: KeyRole, minimum: UserRole): boolean {
  return role !== "sending" && RANK[role] >= RANK[minimum];
}

/**
 * Whether `principal` may call a route that asks for `access`; `routeDomain` is the route's
 * `:domain` as its handler reads it (decoded, lowercase), for `sending` routes.
 */
export function mayCall(access: Access, principal: Principal, routeDomain: string | null): boolean {
  switch (access) {
    case "public":
      return true;
    case "basic":
    case "developer":
    case "admin":
      return atLeast(principal.role, access);
    case "sending":
      if (principal.role === "sending") return principal.domain !== null && principal.domain === routeDomain;
      return atLeast(principal.role, "developer");
  }
}

/**
 * The value of the route parameter `:name` in `pathname` (the URL's raw path), for a route path of
 * plain segments such as `/v3/:domain/messages`: percent-decoded as Hono decodes parameters
 * (undecodable text stays as it is) and lowercased as the handlers read domains. Null when the
 * pattern has no such parameter or the path has no such segment.
 */
export function routeParam(pattern: string, pathname: string, name: string): string | null {
  const at = pattern.split("/").findIndex((segment) => segment === `:${name}` || segment.startsWith(`:${name}{`));
  if (at < 0) return null;
  const segment = pathname.split("/")[at];
  if (segment === undefined || segment === "") return null;
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // As Hono does: a malformed escape is left as it is.
  }
  return decoded.toLowerCase();
}
