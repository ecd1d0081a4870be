// Tracking tokens: self-contained, signed link payloads, so the edge verifies a hit with one HMAC
// and no storage lookup (design rule 1). Layout in docs/storage.md, "Tokens".
import { decodeBase64Url, encodeBase64Url } from "./base64url";

export type TokenKind = "open" | "click" | "unsubscribe" | "tag-unsubscribe";

export interface TokenPayload {
  kind: TokenKind;
  /** Key version the token was signed with (1..255). */
  version: number;
  /** Unix seconds when the message was prepared; bot rules compare click times with it. */
  issuedAt: number;
  /** The domain's web_prefix when the link was made; with `domain` it names the tracking host. */
  webPrefix: string;
  domain: string;
  messageId: string;
  recipient: string;
  /** Destination of a click token; "" for the other kinds. */
  url: string;
  /**
   * Set when the link was made as an https:// link on the domain's own tracking host (its
   * certificate was active): a plain-http request for it is sent to https. Absent in older tokens.
   */
  https?: boolean;
}

const KIND_CODES: Record<TokenKind, number> = { open: 1, click: 2, unsubscribe: 3, "tag-unsubscribe": 4 };
const KINDS_BY_CODE = new Map(Object.entries(KIND_CODES).map(([k, v]) => [v, k as TokenKind]));
/** Bit 7 of the kind byte: an https link. Kinds use bits 0-6, so every older token reads as http. */
const HTTPS_FLAG = 0x80;
/** Bytes of HMAC-SHA256 kept in the token: 128 bits is ample against forgery, and keeps links short. */
const SIGNATURE_BYTES = 16;
const HEADER_BYTES = 6; // version, kind, issuedAt (uint32 seconds)
const MAX_FIELD_BYTES = 255;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Resolves the secret for a key version; null when the version is unknown or retired. */
export type SecretForVersion = (version: number) => string | null;

// Derived keys are cached per isolate: deriving costs one HMAC plus an importKey per call. They
// are kept by secret, then by domain: the secret is the same string object on every call, so its
// hash is cached, and the hot path hashes only the short domain (no joined key string per hit).
// Resolved keys are also kept apart so that the hot path reads them without an extra await.
const keyCache = new Map<string, Map<string, Promise<CryptoKey>>>();
const resolvedKeys = new Map<string, Map<string, CryptoKey>>();
const KEY_CACHE_LIMIT = 2048;

async function importHmacKey(raw: BufferSource): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** The per-domain signing key: HMAC(secret, "tidings/tracking:" + domain). */
export function domainKey(secret: string, domain: string): Promise<CryptoKey> | CryptoKey {
  const resolved = resolvedKeys.get(secret)?.get(domain);
  if (resolved) return resolved;
  let pending = keyCache.get(secret);
  if (!pending) keyCache.set(secret, (pending = new Map()));
  let key = pending.get(domain);
  if (!key) {
    if (pending.size >= KEY_CACHE_LIMIT) {
      pending.clear();
      resolvedKeys.get(secret)?.clear();
    }
    const keys = pending;
    key = (async () => {
      const root = await importHmacKey(encoder.encode(secret));
      const derived = await crypto.subtle.sign("HMAC", root, encoder.encode(`tidings/tracking:${domain}`));
      const imported = await importHmacKey(derived);
      let done = resolvedKeys.get(secret);
      if (!done) resolvedKeys.set(secret, (done = new Map()));
      done.set(domain, imported);
      return imported;
    })();
    keys.set(domain, key);
    key.catch(() => keys.delete(domain));
  }
  return key;
}

function pushField(parts: number[], value: string, name: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > MAX_FIELD_BYTES) throw new RangeError(`${name} is longer than ${MAX_FIELD_BYTES} bytes`);
  parts.push(bytes.length, ...bytes);
}

export async function signToken(payload: TokenPayload, secret: string): Promise<string> {
  const parts: number[] = [payload.version, KIND_CODES[payload.kind] | (payload.https ? HTTPS_FLAG : 0)];
  const t = payload.issuedAt >>> 0;
  parts.push((t >>> 24) & 255, (t >>> 16) & 255, (t >>> 8) & 255, t & 255);
  pushField(parts, payload.webPrefix, "web_prefix");
  pushField(parts, payload.domain, "domain");
  pushField(parts, payload.messageId, "message_id");
  pushField(parts, payload.recipient, "recipient");
  const body = new Uint8Array([...parts, ...encoder.encode(payload.kind === "click" ? payload.url : "")]);
  const key = await domainKey(secret, payload.domain);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, body));
  const token = new Uint8Array(body.length + SIGNATURE_BYTES);
  token.set(body);
  token.set(mac.subarray(0, SIGNATURE_BYTES), body.length);
  return encodeBase64Url(token);
}

/** UTF-8 to string, with a fast path for the usual all-ASCII field; null on invalid UTF-8. */
function decodeText(bytes: Uint8Array): string | null {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}



/** Returns the payload of an authentic token, or null for anything tampered, truncated or unknown. */
export async function verifyToken(token: string, secretFor: SecretForVersion): Promise<TokenPayload | null> {
  if (token.length > 4096) return null;
  const bytes = decodeBase64Url(token);
  if (!bytes || bytes.length < HEADER_BYTES + 4 + SIGNATURE_BYTES) return null;
  const bodyLength = bytes.length - SIGNATURE_BYTES;
  const version = bytes[0]!;
  const kindByte = bytes[1]!;
  const kind = KINDS_BY_CODE.get(kindByte & ~HTTPS_FLAG);
  const secret = secretFor(version);
  if (!kind || !secret) return null;
  // Four length-prefixed fields, read in place (this runs on every hit).
  const ends: number[] = [];
  let at = HEADER_BYTES;
  for (let i = 0; i < 4; i++) {
    if (at >= bodyLength) return null;
    at += 1 + bytes[at]!;
    if (at > bodyLength) return null;
    ends.push(at);
  }
  const field = (i: number) => {
    const start = i === 0 ? HEADER_BYTES + 1 : ends[i - 1]! + 1;
    return decodeText(bytes.subarray(start, ends[i]));
  };
  const webPrefix = field(0);
  const domain = field(1);
  const messageId = field(2);
  const recipient = field(3);
  const url = decodeText(bytes.subarray(at, bodyLength));
  if (webPrefix === null || domain === null || messageId === null || recipient === null || url === null) return null;
  if ((kind === "click") !== (url.length > 0)) return null;
  const cached = domainKey(secret, domain);
  const key = cached instanceof CryptoKey ? cached : await cached;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes.subarray(0, bodyLength)));
  let diff = 0;
  for (let i = 0; i < SIGNATURE_BYTES; i++) diff |= mac[i]! ^ bytes[bodyLength + i]!;
  if (diff !== 0) return null;
  const issuedAt = ((bytes[2]! << 24) | (bytes[3]! << 16) | (bytes[4]! << 8) | bytes[5]!) >>> 0;
  const payload: TokenPayload = { kind, version, issuedAt, webPrefix, domain, messageId, recipient, url };
  if (kindByte & HTTPS_FLAG) payload.https = true;
  return payload;
}

/**
 * Whether a token asks for https, read without decoding or verifying it: the token's second
 * base64url character holds the top half of the kind byte in its low 4 bits, which is exactly 0x8
 * (the flag, and a kind below 16) in an https token. The edge uses it only where it answers before
 * verifying (the pixel), to send a plain-http request to the same URL over https: safe for any token.
 */
export function tokenWantsHttps(token: string): boolean {
  const c = token.charCodeAt(1);
  const value =
    c >= 65 && c <= 90 ? c - 65 : c >= 97 && c <= 122 ? c - 71 : c >= 48 && c <= 57 ? c + 4 : c === 45 ? 62 : c === 95 ? 63 : -1;
  return value >= 0 && (value & 15) === 8;
}

type SecretSettings = {
  TRACKING_SECRET: string;
  TRACKING_KEY_VERSION: string;
  TRACKING_SECRETS_PREVIOUS?: string;
};
type ParsedSecrets = ReturnType<typeof parseSecretSettings>;
// By secret, then version, then previous secrets: each is a string the runtime hands over as the same
// object every time, with its hash cached, so the lookup builds no key string per hit.
const settingsCache = new Map<string, Map<string, Map<string, ParsedSecrets>>>();

/** Secrets by key version from the Worker's settings (parsed once per isolate and settings). */
export function secretsFromSettings(settings: SecretSettings): { currentVersion: number; secretFor: SecretForVersion } {
  const previous = settings.TRACKING_SECRETS_PREVIOUS ?? "";
  let byVersion = settingsCache.get(settings.TRACKING_SECRET);
  if (!byVersion) {
    if (settingsCache.size > 16) settingsCache.clear();
    settingsCache.set(settings.TRACKING_SECRET, (byVersion = new Map()));
  }
  let byPrevious = byVersion.get(settings.TRACKING_KEY_VERSION);
  if (!byPrevious) byVersion.set(settings.TRACKING_KEY_VERSION, (byPrevious = new Map()));
  let parsed = byPrevious.get(previous);
  if (!parsed) byPrevious.set(previous, (parsed = parseSecretSettings(settings)));
  return parsed;
}

function parseSecretSettings(settings: {
  TRACKING_SECRET: string;
  TRACKING_KEY_VERSION: string;
  TRACKING_SECRETS_PREVIOUS?: string;
}): { currentVersion: number; secretFor: SecretForVersion } {
  const currentVersion = Number(settings.TRACKING_KEY_VERSION || "1");
  if (!Number.isInteger(currentVersion) || currentVersion < 1 || currentVersion > 255) {
    throw new Error("TRACKING_KEY_VERSION must be an integer from 1 to 255");
  }
  const secrets = new Map<number, string>();
  for (const entry of (settings.TRACKING_SECRETS_PREVIOUS ?? "").split(",")) {
    const colon = entry.indexOf(":");
    if (colon > 0) secrets.set(Number(entry.slice(0, colon).trim()), entry.slice(colon + 1).trim());
  }
  if (settings.TRACKING_SECRET) secrets.set(currentVersion, settings.TRACKING_SECRET);
  return { currentVersion, secretFor: (version) => secrets.get(version) ?? null };
}
