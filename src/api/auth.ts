// HTTP Basic auth `api:<API_KEY>` on every API route, compared in constant time, with failed
// attempts throttled per client address (auth-throttle.ts).
import type { MiddlewareHandler } from "hono";
import { judgeApiKey, THROTTLED_MESSAGE } from "./auth-throttle";
import type { ApiEnv } from "./context";

const encoder = new TextEncoder();

/** Compares SHA-256 digests so that neither the length nor the content leaks through timing. */
export async function constantTimeEquals(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

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
 * Basic auth `api:<API_KEY>`. A request that presents credentials is an attempt, throttled per
 * client address (auth-throttle.ts): a throttled address gets 429 whatever the key. A request
 * without an Authorization header guesses nothing and is simply refused.
 */
export const requireApiKey: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  const credentials = basicCredentials(header);
  const expected = c.env.API_KEY;
  const ok = !!expected && !!credentials && credentials[0] === "api" && (await constantTimeEquals(credentials[1], expected));
  const outcome = header === undefined ? "refused" : await judgeApiKey(c.env, c.req.header("cf-connecting-ip") ?? null, ok);
  if (outcome === "throttled") return c.json({ message: THROTTLED_MESSAGE }, 429);
  if (outcome === "refused") {
    c.header("www-authenticate", 'Basic realm="Tidings API"');
    return c.json({ message: "Invalid private key" }, 401);
  }
  await next();
};
