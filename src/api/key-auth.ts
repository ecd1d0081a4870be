// Which key a presented secret is: the API_KEY secret (the bootstrap admin key, compared in
// constant time) or a key of the Keys API, found in D1 by the SHA-256 of the secret. A key found
// in D1 is remembered by the isolate for KEY_CACHE_MS, so a burst of calls costs one query; its
// expiry is checked at every use, and deleting a key through the API forgets it in that isolate at
// once. Other isolates may honour a deleted key for at most KEY_CACHE_MS more. Bindings: API_KEY, DB.
import { findKeyByHash, findKeyById } from "../db/keys";
import { PRIMARY_KEY_ID, PRIMARY_PRINCIPAL, type Principal } from "../domain/access";
import { hashKeySecret, isLiveKey, KEY_ID_PATTERN, KEY_SECRET_PATTERN, type StoredKey } from "../domain/api-keys";
import type { Env } from "../env";

/** How long an isolate trusts a key it found in D1 before asking again (unit: ms). */
export const KEY_CACHE_MS = 5_000;
/** Keys an isolate remembers at most (unit: entries); past it the memory starts again. */
const KEY_CACHE_MAX = 1_000;
const cache = new Map<string, { key: StoredKey; until: number }>();

const encoder = new TextEncoder();

/** Compares SHA-256 digests so that neither the length nor the content leaks through timing. */
export async function constantTimeEquals(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(given)), crypto.subtle.digest("SHA-256", encoder.encode(expected))]);
  return crypto.subtle.timingSafeEqual(a, b);
}

const principalOf = (key: StoredKey): Principal => ({ id: key.id, role: key.role, domain: key.domainName });

/** The key a presented secret is, if it is one that works now; null for anything else. */
export async function authenticateKey(env: Env, secret: string, now = Date.now()): Promise<Principal | null> {
  if (env.API_KEY && (await constantTimeEquals(secret, env.API_KEY))) return PRIMARY_PRINCIPAL;
  if (!KEY_SECRET_PATTERN.test(secret)) return null;
  const hash = await hashKeySecret(secret);
  const cached = cache.get(hash);
  let key = cached && cached.until > now ? cached.key : null;
  if (!key) {
    key = await findKeyByHash(env.DB, hash);
    if (!key) {
      cache.delete(hash);
      return null;
    }
    if (cache.size >= KEY_CACHE_MAX) cache.clear();
    cache.set(hash, { key, until: now + KEY_CACHE_MS });
  }
  return isLiveKey(key, now) ? principalOf(key) : null;
}

/**
 * The key with this id if it still works now (the panel's check of a session on every request,
 * straight from D1); "primary" is the API_KEY secret's id while that secret is set.
 */
export async function liveKeyById(env: Env, id: string, now = Date.now()): Promise<Principal | null> {
  if (id === PRIMARY_KEY_ID) return env.API_KEY ? PRIMARY_PRINCIPAL : null;
  if (!KEY_ID_PATTERN.test(id)) return null;
  const key = await findKeyById(env.DB, id);
  return key && isLiveKey(key, now) ? principalOf(key) : null;
}

/** Forgets a deleted key in this isolate, so it stops working here at once. */
export function forgetKey(id: string): void {
  for (const [hash, entry] of cache) if (entry.key.id === id) cache.delete(hash);
}

// Calls the panel makes to the API app in-process carry the signed-in key itself rather than a
// secret: the panel registers the Request object it builds, and only such an object (never one
// that came from the network) is found here.
const grants = new WeakMap<Request, Principal>();

/** Marks an in-process request as made by `principal` (src/panel/api-client.ts). */
export function grantInProcess(request: Request, principal: Principal): Request {
  grants.set(request, principal);
  return request;
}

/** The principal an in-process request was granted, if it is one. */
export const grantedPrincipal = (request: Request): Principal | undefined => grants.get(request);
