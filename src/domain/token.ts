// Tracking tokens: self-contained, signed link payloads, so the edge verifies a hit with one HMAC
// and no storage lookup (design rule 1). Layout in docs/storage.md, "Tokens".
import { decodeBase64UrlInto, encodeBase64Url } from "./base64url";
import { hmacSha256Key, hmacSha256Words, type HmacSha256Key } from "./hmac-sha256";
import { utf8ByteLength } from "./utf8";

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
/** Bit 7 of the kind byte: an https link. Kinds use bits 0-6, so every older token reads as http. */
const HTTPS_FLAG = 0x80;
/** Bytes of HMAC-SHA256 kept in the token: 128 bits is ample against forgery, and keeps links short. */
const SIGNATURE_BYTES = 16;
const HEADER_BYTES = 6; // version, kind, issuedAt (uint32 seconds)
/**
 * Longest web prefix, domain, message id or recipient a token holds: each is length-prefixed by one
 * byte. Unit: bytes of UTF-8. Whatever ends up in a token is checked against this at the API.
 */
export const MAX_TOKEN_FIELD_BYTES = 255;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Resolves the secret for a key version; null when the version is unknown or retired. */
export type SecretForVersion = (version: number) => string | null;

// Derived signing keys are cached per isolate: deriving costs one HMAC plus an importKey per call.
// They are kept by secret, then by domain: the secret is the same string object on every call, so its
// hash is cached, and the hot path hashes only the short domain (no joined key string per hit).
// Resolved keys are also kept apart so that the hot path reads them without an extra await.
const keyCache = new Map<string, Map<string, Promise<CryptoKey>>>();
const resolvedKeys = new Map<string, Map<string, CryptoKey>>();
const KEY_CACHE_LIMIT = 2048;

async function importHmacKey(raw: BufferSource): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** The per-domain key's bytes: HMAC(secret, "tidings/tracking:" + domain). */
async function derivedKeyBytes(secret: string, domain: string): Promise<Uint8Array> {
  const root = await importHmacKey(encoder.encode(secret));
  return new Uint8Array(await crypto.subtle.sign("HMAC", root, encoder.encode(`tidings/tracking:${domain}`)));
}

/** The per-domain signing key (WebCrypto), derived as derivedKeyBytes says. */
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
      const imported = await importHmacKey(await derivedKeyBytes(secret, domain));
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
  if (bytes.length > MAX_TOKEN_FIELD_BYTES) throw new RangeError(`${name} is longer than ${MAX_TOKEN_FIELD_BYTES} bytes`);
  parts.push(bytes.length, ...bytes);
}

/**
 * The first of a token's length-prefixed fields that does not fit (its name as the API calls it),
 * or null when a token can be made for them: callers check before anything is stored, so that
 * signing can never fail half-way through a request.
 */
export function tokenFieldTooLong(fields: Pick<TokenPayload, "webPrefix" | "domain" | "messageId" | "recipient">): string | null {
  const named: Array<[string, string]> = [
    ["web_prefix", fields.webPrefix],
    ["domain", fields.domain],
    ["message_id", fields.messageId],
    ["recipient", fields.recipient],
  ];
  for (const [name, value] of named) if (utf8ByteLength(value) > MAX_TOKEN_FIELD_BYTES) return name;
  return null;
}

/**
 * The longest token the edge accepts (unit: base64url characters): the one limit on a token's
 * size, shared by the signer (a link whose token would be longer is left untracked) and the edge
 * (a longer token is refused unread). 4,096 characters are 3,072 bytes.
 */
export const MAX_TOKEN_CHARS = 4096;

/** Characters of the unpadded base64url text of `bytes` bytes. */
const base64UrlChars = (bytes: number) => Math.ceil((bytes * 4) / 3);

/** The token for a payload, or null when it would be longer than MAX_TOKEN_CHARS (a click URL too long to carry). */
export async function signTokenIfFits(payload: TokenPayload, secret: string): Promise<string | null> {
  const parts: number[] = [payload.version, KIND_CODES[payload.kind] | (payload.https ? HTTPS_FLAG : 0)];
  const t = payload.issuedAt >>> 0;
  parts.push((t >>> 24) & 255, (t >>> 16) & 255, (t >>> 8) & 255, t & 255);
  pushField(parts, payload.webPrefix, "web_prefix");
  pushField(parts, payload.domain, "domain");
  pushField(parts, payload.messageId, "message_id");
  pushField(parts, payload.recipient, "recipient");
  const url = encoder.encode(payload.kind === "click" ? payload.url : "");
  if (base64UrlChars(parts.length + url.length + SIGNATURE_BYTES) > MAX_TOKEN_CHARS) return null;
  const body = new Uint8Array(parts.length + url.length);
  body.set(parts);
  body.set(url, parts.length);
  const key = await domainKey(secret, payload.domain);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, body));
  const token = new Uint8Array(body.length + SIGNATURE_BYTES);
  token.set(body);
  token.set(mac.subarray(0, SIGNATURE_BYTES), body.length);
  return encodeBase64Url(token);
}

/** The token for a payload; a RangeError when it would be longer than MAX_TOKEN_CHARS. */
export async function signToken(payload: TokenPayload, secret: string): Promise<string> {
  const token = await signTokenIfFits(payload, secret);
  if (token === null) throw new RangeError(`the token would be longer than ${MAX_TOKEN_CHARS} characters`);
  return token;
}

/** Token bytes, decoded in place: verification runs to the end without yielding, so one buffer serves every call. */
const scratch = new Uint8Array((MAX_TOKEN_CHARS * 3) / 4);
const KINDS: ReadonlyArray<TokenKind | undefined> = [undefined, "open", "click", "unsubscribe", "tag-unsubscribe"];

/** scratch[start..end) as text: the usual all-ASCII field without a decoder; null on invalid UTF-8. */
function fieldText(start: number, end: number): string | null {
  for (let i = start; i < end; i++) {
    if (scratch[i]! >= 0x80) {
      try {
        return decoder.decode(scratch.subarray(start, end));
      } catch {
        return null;
      }
    }
  }
  return String.fromCharCode.apply(null, scratch.subarray(start, end) as unknown as number[]);
}

// Verification keys (the domain key's HMAC midstates, see hmac-sha256.ts), by secret then domain,
// like the signing keys above. Derived once per isolate and domain with WebCrypto.
const verifyKeys = new Map<string, Map<string, HmacSha256Key>>();

/** Keeps a verification key, once a token has proved authentic with it. */
function keepVerifyKey(secret: string, domain: string, key: HmacSha256Key): void {
  let byDomain = verifyKeys.get(secret);
  if (!byDomain) verifyKeys.set(secret, (byDomain = new Map()));
  if (byDomain.size >= KEY_CACHE_LIMIT) byDomain.clear();
  byDomain.set(domain, key);
}

/** What verifyTokenNow answers when this isolate has not yet derived the token's domain key. */
export class KeyNotLoaded {
  constructor(
    readonly secret: string,
    readonly domain: string,
  ) {}
}

type KeyLookup = (secret: string, domain: string) => HmacSha256Key | undefined;
const cachedVerifyKey: KeyLookup = (secret, domain) => verifyKeys.get(secret)?.get(domain);

/**
 * Checks a token synchronously: its payload if authentic, null for anything tampered, truncated
 * or unknown, or KeyNotLoaded the first time this isolate sees the token's domain (then call
 * verifyToken, which derives the key). The tracking edge calls this on every hit.
 */
export function verifyTokenNow(token: string, secretFor: SecretForVersion, keyFor: KeyLookup = cachedVerifyKey): TokenPayload | null | KeyNotLoaded {
  if (token.length > MAX_TOKEN_CHARS) return null;
  const b = scratch;
  const length = decodeBase64UrlInto(token, b);
  if (length < HEADER_BYTES + 4 + SIGNATURE_BYTES) return null;
  const bodyLength = length - SIGNATURE_BYTES;
  const version = b[0]!;
  const kindByte = b[1]!;
  const kind = KINDS[kindByte & ~HTTPS_FLAG];
  const secret = secretFor(version);
  if (!kind || !secret) return null;
  // Four length-prefixed fields (web prefix, domain, message id, recipient), then the URL.
  const prefixStart = HEADER_BYTES + 1;
  const domainStart = prefixStart + b[HEADER_BYTES]! + 1;
  if (domainStart > bodyLength) return null;
  const messageIdStart = domainStart + b[domainStart - 1]! + 1;
  if (messageIdStart > bodyLength) return null;
  const recipientStart = messageIdStart + b[messageIdStart - 1]! + 1;
  if (recipientStart > bodyLength) return null;
  const urlStart = recipientStart + b[recipientStart - 1]!;
  if (urlStart > bodyLength) return null;
  if ((kind === "click") !== (urlStart < bodyLength)) return null;
  const domain = fieldText(domainStart, messageIdStart - 1);
  if (domain === null) return null;
  const key = keyFor(secret, domain);
  if (!key) return new KeyNotLoaded(secret, domain);
  const mac = hmacSha256Words(key, b, bodyLength);
  let diff = 0;
  for (let i = 0, o = bodyLength; i < SIGNATURE_BYTES / 4; i++, o += 4) diff |= mac[i]! ^ ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  if (diff !== 0) return null;
  const webPrefix = fieldText(prefixStart, domainStart - 1);
  const messageId = fieldText(messageIdStart, recipientStart - 1);
  const recipient = fieldText(recipientStart, urlStart);
  const url = fieldText(urlStart, bodyLength);
  if (webPrefix === null || messageId === null || recipient === null || url === null) return null;
  const issuedAt = ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0;
  const payload: TokenPayload = { kind, version, issuedAt, webPrefix, domain, messageId, recipient, url };
  if (kindByte & HTTPS_FLAG) payload.https = true;
  return payload;
}

/** Returns the payload of an authentic token, or null for anything tampered, truncated or unknown. */
export async function verifyToken(token: string, secretFor: SecretForVersion): Promise<TokenPayload | null> {
  const now = verifyTokenNow(token, secretFor);
  if (!(now instanceof KeyNotLoaded)) return now;
  const key = hmacSha256Key(await derivedKeyBytes(now.secret, now.domain));
  const later = verifyTokenNow(token, secretFor, () => key);
  if (later instanceof KeyNotLoaded || later === null) return null;
  // Kept only now: forged tokens naming made-up domains cannot push real domains out of the cache.
  keepVerifyKey(now.secret, now.domain, key);
  return later;
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
