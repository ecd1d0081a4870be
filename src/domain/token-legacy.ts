// Tokens of the older format, signed but not encrypted: links in mail sent before tokens were
// encrypted. The edge still honours them while their key version's secret is configured (the
// rotation rules in docs/storage.md, "Tokens"); nothing makes new ones.
// Layout: version, kind (1-4, plus 0x80 for https), issuedAt (uint32), four length-prefixed
// fields, the URL, then the first 16 bytes of HMAC-SHA256(domain key, all of that).
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { fieldBounds, fieldText, HTTPS_FLAG, KeyNotLoaded, KIND_MASK, KINDS, payloadOf, RESERVED_KIND_BITS, type TokenPayload } from "./token-format";

/** Bytes of HMAC-SHA256 kept in an older token. */
const LEGACY_MAC_BYTES = 16;
const LEGACY_HEADER_BYTES = 6; // version, kind, issuedAt
const KEY_CACHE_LIMIT = 2048;

/** An HMAC keyed with a domain's legacy key; each check works on a clone of it. */
export type LegacyKey = ReturnType<typeof hmac.create>;

export function legacyKey(keyBytes: Uint8Array): LegacyKey {
  return hmac.create(sha256, keyBytes);
}

// Verified domains' keys, by secret then domain, kept only once a token proved authentic with them.
const legacyKeys = new Map<string, Map<string, LegacyKey>>();

export function cachedLegacyKey(secret: string, domain: string): LegacyKey | undefined {
  return legacyKeys.get(secret)?.get(domain);
}

export function keepLegacyKey(secret: string, domain: string, key: LegacyKey): void {
  let byDomain = legacyKeys.get(secret);
  if (!byDomain) legacyKeys.set(secret, (byDomain = new Map()));
  if (byDomain.size >= KEY_CACHE_LIMIT) byDomain.clear();
  byDomain.set(domain, key);
}

/**
 * The payload of an authentic older token held in b[0..length), null for anything else, or
 * KeyNotLoaded when this isolate has not derived its domain's key yet. The domain is read before
 * the MAC is checked only to pick the key; nothing else is read until the MAC matches.
 */
export function openLegacy(
  b: Uint8Array,
  length: number,
  secret: string,
  keyFor: (secret: string, domain: string) => LegacyKey | undefined,
): TokenPayload | null | KeyNotLoaded {
  const kindByte = b[1]!;
  const kind = KINDS[kindByte & KIND_MASK];
  if (!kind || kindByte & RESERVED_KIND_BITS || length < LEGACY_HEADER_BYTES + 4 + LEGACY_MAC_BYTES) return null;
  const bodyLength = length - LEGACY_MAC_BYTES;
  const at = fieldBounds(b, LEGACY_HEADER_BYTES, bodyLength);
  if (!at) return null;
  const domain = fieldText(b, at.domainStart, at.messageIdStart - 1);
  if (domain === null) return null;
  const key = keyFor(secret, domain);
  if (!key) return new KeyNotLoaded(secret, null, domain);
  const mac = key.clone().update(b.subarray(0, bodyLength)).digest();
  let diff = 0;
  for (let i = 0; i < LEGACY_MAC_BYTES; i++) diff |= mac[i]! ^ b[bodyLength + i]!;
  if (diff !== 0) return null;
  const issuedAt = ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0;
  return payloadOf(b, at, bodyLength, kind, b[0]!, issuedAt, (kindByte & HTTPS_FLAG) !== 0);
}
