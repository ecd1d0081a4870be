// Signed tokens (TRACKING_TOKEN_FORMAT "signed", the default): the link's fields in the clear,
// then 16 bytes of HMAC-SHA256 under the domain's key. Readable by whoever sees the link, but the
// cheapest to check: the edge recomputes the MAC with hmac-sha256.ts (3 SHA-256 compressions for a
// usual token, synchronous, no allocation). Layout in docs/storage.md, "Tokens".
// Layout: version, kind (1-4, plus 0x80 for https), issuedAt (uint32), four length-prefixed
// fields, the URL, then the first 16 bytes of HMAC-SHA256(domain key, all of that).
import { hmacSha256Key, hmacSha256Words, type HmacSha256Key } from "./hmac-sha256";
import { base64UrlChars, fieldBounds, fieldText, HTTPS_FLAG, KeyNotLoaded, KIND_CODES, KIND_MASK, KINDS, MAX_TOKEN_CHARS, payloadOf, RESERVED_KIND_BITS, type TokenPayload } from "./token-format";
import { domainKey, domainKeyBytes, KeyCache } from "./token-keys";

/** Bytes of HMAC-SHA256 kept in the token: 128 bits is ample against forgery, and keeps links short. */
const SIGNATURE_BYTES = 16;
const HEADER_BYTES = 6; // version, kind, issuedAt
const BASE64URL_UNPADDED = { alphabet: "base64url", omitPadding: true } as const;

/** The signed token for a payload (its fields already encoded), or null when it would pass MAX_TOKEN_CHARS. */
export async function signSigned(payload: TokenPayload, fields: number[], url: Uint8Array, secret: string): Promise<string | null> {
  const bodyLength = HEADER_BYTES + fields.length + url.length;
  if (base64UrlChars(bodyLength + SIGNATURE_BYTES) > MAX_TOKEN_CHARS) return null;
  const token = new Uint8Array(bodyLength + SIGNATURE_BYTES);
  token[0] = payload.version;
  token[1] = KIND_CODES[payload.kind] | (payload.https ? HTTPS_FLAG : 0);
  new DataView(token.buffer).setUint32(2, payload.issuedAt >>> 0);
  token.set(fields, HEADER_BYTES);
  token.set(url, HEADER_BYTES + fields.length);
  const body = token.subarray(0, bodyLength);
  // Signed with WebCrypto: only the edge's check uses hmac-sha256.ts.
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await domainKey(secret, payload.domain), body));
  token.set(mac.subarray(0, SIGNATURE_BYTES), bodyLength);
  return token.toBase64(BASE64URL_UNPADDED);
}

/** A domain's key with its HMAC pads hashed (hmac-sha256.ts). */
export type SignedKey = HmacSha256Key;

export async function signedKeyOf(secret: string, domain: string): Promise<SignedKey> {
  return hmacSha256Key(await domainKeyBytes(secret, domain));
}

// Verified domains' keys, by secret then domain, kept only once a token proved authentic with them.
const signedKeys = new KeyCache<string, SignedKey>();

export function cachedSignedKey(secret: string, domain: string): SignedKey | undefined {
  return signedKeys.get(secret, domain);
}

export function keepSignedKey(secret: string, domain: string, key: SignedKey): void {
  signedKeys.set(secret, domain, key);
}

/**
 * The payload of an authentic signed token held in b[0..length), null for anything else, or
 * KeyNotLoaded when this isolate has not derived its domain's key yet. The domain is read before
 * the MAC is checked only to pick the key; nothing else is used until the MAC matches.
 */
export function openSigned(
  b: Uint8Array,
  length: number,
  secret: string,
  keyFor: (secret: string, domain: string) => SignedKey | undefined,
): TokenPayload | null | KeyNotLoaded {
  const kindByte = b[1]!;
  const kind = KINDS[kindByte & KIND_MASK];
  if (!kind || kindByte & RESERVED_KIND_BITS || length < HEADER_BYTES + 4 + SIGNATURE_BYTES) return null;
  const bodyLength = length - SIGNATURE_BYTES;
  const at = fieldBounds(b, HEADER_BYTES, bodyLength);
  if (!at) return null;
  const domain = fieldText(b, at.domainStart, at.messageIdStart - 1);
  if (domain === null) return null;
  const key = keyFor(secret, domain);
  if (!key) return new KeyNotLoaded(secret, null, domain);
  const mac = hmacSha256Words(key, b, bodyLength);
  let diff = 0;
  for (let i = 0, o = bodyLength; i < SIGNATURE_BYTES / 4; i++, o += 4) diff |= mac[i]! ^ ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  if (diff !== 0) return null;
  const issuedAt = ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0;
  return payloadOf(b, at, bodyLength, kind, b[0]!, issuedAt, (kindByte & HTTPS_FLAG) !== 0);
}
