// Control panel sessions: a stateless cookie `<expires>.<nonce>.<key id>.<role>.<mac>` signed with a
// key derived from API_KEY (so changing it signs everyone out), naming the key that signed in
// ("primary" for the API_KEY secret) and its role; the panel checks that key again on every
// request (src/panel/index.ts), so deleting or expiring it ends its sessions. A CSRF token per
// session is carried by every form that changes something. Bindings: API_KEY.
import { constantTimeEquals } from "../api/key-auth";
import { PRIMARY_KEY_ID, type UserRole } from "../domain/access";
import { encodeBase64Url } from "../domain/base64url";

export const SESSION_COOKIE = "tidings_session";
/** Sessions last 8 hours from sign-in. */
export const SESSION_SECONDS = 8 * 3600;

const encoder = new TextEncoder();

async function mac(apiKey: string, purpose: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(`tidings-panel:${purpose}:${apiKey}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return encodeBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text))));
}

/** The key a session was opened with. */
export interface SessionKey {
  id: string;
  role: UserRole;
}

export interface Session {
  nonce: string;
  expires: number; // unix seconds
  key: SessionKey;
}

const PRIMARY_SESSION_KEY: SessionKey = { id: PRIMARY_KEY_ID, role: "admin" };

export async function newSessionCookieValue(apiKey: string, nowMs: number, key: SessionKey = PRIMARY_SESSION_KEY): Promise<string> {
  const expires = Math.floor(nowMs / 1000) + SESSION_SECONDS;
  const nonce = encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  const body = `${expires}.${nonce}.${key.id}.${key.role}`;
  return `${body}.${await mac(apiKey, "session", body)}`;
}

const COOKIE_PATTERN = /^(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.(primary|[0-9a-f]{8}-[0-9a-f]{8})\.(admin|developer|basic)\.([A-Za-z0-9_-]{43})$/;

/** The session a cookie value names, or null when it is forged, malformed or expired. */
export async function readSession(apiKey: string, value: string | undefined, nowMs: number): Promise<Session | null> {
  const match = COOKIE_PATTERN.exec(value ?? "");
  if (!match || !apiKey) return null;
  const [, expiresText, nonce, id, role, given] = match;
  if (!(await constantTimeEquals(given!, await mac(apiKey, "session", `${expiresText}.${nonce}.${id}.${role}`)))) return null;
  const expires = Number(expiresText);
  if (expires * 1000 <= nowMs) return null;
  return { nonce: nonce!, expires, key: { id: id!, role: role as UserRole } };
}

export function csrfToken(apiKey: string, session: Session): Promise<string> {
  return mac(apiKey, "csrf", session.nonce);
}

export async function checkCsrf(apiKey: string, session: Session, given: string | undefined): Promise<boolean> {
  return !!given && constantTimeEquals(given, await csrfToken(apiKey, session));
}

export function sessionCookie(value: string, secure: boolean, maxAge = SESSION_SECONDS): string {
  return `${SESSION_COOKIE}=${value}; Path=/app; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? "; Secure" : ""}`;
}
