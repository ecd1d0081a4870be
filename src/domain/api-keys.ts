// API keys as Mailgun's Keys API has them (GET/POST /v1/keys, DELETE /v1/keys/{id}): the shape
// of a new key's secret and id, the checks on a creation request, and the JSON of a key. Pure.
//
// A secret is `<32 hex>-<id>` with `<id>` = `<8 hex>-<8 hex>`, the form of Mailgun's own keys.
// Its 128 random bits are the secret; the id part is public (the list shows it). Only SHA-256 of
// the secret is stored. No slow KDF (bcrypt, scrypt, PBKDF2) is needed: those make guessing a
// low-entropy password expensive, while a 128-bit random secret cannot be found from its hash by
// any number of guesses, fast or slow. An unsalted hash also lets a presented key be looked up by
// an index in one query; salts stop precomputed tables, which cannot cover 2^128 values anyway.
import type { KeyRole } from "./access";
import { KEY_ROLES } from "./access";
import { parseIntInRange } from "./integers";
import { utf8ByteLength } from "./utf8";

export const KEY_KINDS = ["user", "domain"] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

/** Keys the Keys API holds at most (unit: keys): bounds the list, which Mailgun does not page. */
export const MAX_API_KEYS = 1_000;
/** Longest key description (unit: UTF-8 bytes). */
export const MAX_KEY_DESCRIPTION_BYTES = 1_024;
/** Longest key lifetime a creation may ask for (unit: seconds): ten years. */
export const MAX_KEY_EXPIRATION_SECONDS = 10 * 365 * 24 * 3600;

/** A key as stored (migrations/0009_keys.sql), without its secret. */
export interface StoredKey {
  id: string;
  role: KeyRole;
  kind: KeyKind;
  domainName: string | null;
  description: string;
  /** Unix milliseconds. */
  createdAt: number;
  /** Unix milliseconds; null: never expires. */
  expiresAt: number | null;
}

/** What a creation request asks for, checked. */
export interface KeyRequest {
  role: KeyRole;
  kind: KeyKind;
  domainName: string | null;
  description: string;
  /** Lifetime in seconds; null: never expires. */
  expirationSeconds: number | null;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** A new key's id and secret (128 random bits plus the id). */
export function newKeySecret(): { id: string; secret: string } {
  const random = crypto.getRandomValues(new Uint8Array(24));
  const id = `${hex(random.subarray(16, 20))}-${hex(random.subarray(20, 24))}`;
  return { id, secret: `${hex(random.subarray(0, 16))}-${id}` };
}

/** Lowercase hex SHA-256 of a presented or new secret: the column keys are looked up by. */
export async function hashKeySecret(secret: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret))));
}

export const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{8}$/;
/** The form of every secret newKeySecret makes: anything else is not worth a query. */
export const KEY_SECRET_PATTERN = /^[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}$/;

const isOneOf = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);

/**
 * The creation request from its form fields (first value of each), or the text of its 400.
 * Mailgun's rules: `role` is required; `kind` defaults to user; a sending key is of kind domain and
 * names its `domain_name`, and only it does. Mailgun's `web` kind and `support` role do not exist here.
 */
export function parseKeyRequest(field: (name: string) => string | undefined): KeyRequest | string {
  const role = field("role")?.trim() ?? "";
  if (!isOneOf(KEY_ROLES, role)) return `'role' must be one of ${KEY_ROLES.join(", ")}`;
  const kind = field("kind")?.trim() || "user";
  if (!isOneOf(KEY_KINDS, kind)) return `'kind' must be user or domain`;
  const domainName = field("domain_name")?.trim().toLowerCase() || null;
  if (kind === "domain" && role !== "sending") return "A key of kind domain has the role sending";
  if (role === "sending" && kind !== "domain") return "A sending key is of kind domain: give kind=domain and its domain_name";
  if (kind === "domain" && !domainName) return "'domain_name' is required for a key of kind domain";
  if (kind === "user" && domainName) return "'domain_name' is only for keys of kind domain";
  const description = field("description") ?? "";
  if (utf8ByteLength(description) > MAX_KEY_DESCRIPTION_BYTES) return `'description' is longer than ${MAX_KEY_DESCRIPTION_BYTES} bytes`;
  const expirationText = field("expiration")?.trim() ?? "";
  let expirationSeconds: number | null = null;
  if (expirationText !== "") {
    expirationSeconds = parseIntInRange(expirationText, { min: 1, max: MAX_KEY_EXPIRATION_SECONDS });
    if (expirationSeconds === null) return `'expiration' must be a whole number of seconds from 1 to ${MAX_KEY_EXPIRATION_SECONDS}`;
  }
  return { role, kind, domainName, description, expirationSeconds };
}

/** Whether the key still works at `now` (unix ms): it has not expired. */
export const isLiveKey = (key: StoredKey, now: number): boolean => key.expiresAt === null || key.expiresAt > now;

/** Mailgun's key timestamps: ISO 8601 in UTC without an offset, to the second ("2026-01-23T10:16:00"). */
export const keyTime = (millis: number): string => new Date(millis).toISOString().slice(0, 19);

/** A key as the Keys API shows it; `expires_at` and `disabled_reason` only when they apply, as Mailgun. */
export function keyJson(key: StoredKey, now: number): Record<string, unknown> {
  const live = isLiveKey(key, now);
  return {
    id: key.id,
    description: key.description,
    kind: key.kind,
    role: key.role,
    created_at: keyTime(key.createdAt),
    updated_at: keyTime(key.createdAt),
    ...(key.expiresAt !== null ? { expires_at: keyTime(key.expiresAt) } : {}),
    is_disabled: !live,
    ...(live ? {} : { disabled_reason: "expired" }),
    domain_name: key.domainName,
    requestor: null,
    user_name: null,
  };
}
