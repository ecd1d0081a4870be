// Tracking tokens: self-contained, encrypted and authenticated link payloads (XChaCha20-Poly1305,
// @noble/ciphers), so the edge checks a hit and reads what it is about with no storage lookup
// (design rule 1), and nobody who sees a link can read the recipient, the Message-ID or the URL
// in it. Layout and rotation rules in docs/storage.md, "Tokens".
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import {
  base64UrlChars,
  encodeFields,
  fieldBounds,
  HTTPS_FLAG,
  KeyNotLoaded,
  KIND_CODES,
  KIND_MASK,
  KINDS,
  MAX_TOKEN_BYTES,
  MAX_TOKEN_CHARS,
  payloadOf,
  RESERVED_KIND_BITS,
  SEALED_FLAG,
  type TokenPayload,
} from "./token-format";
import { keepOpeningKey, legacyKeyBytes, openingKey, sealingKeyOf, signingKeyFor } from "./token-keys";
import { cachedLegacyKey, keepLegacyKey, legacyKey, openLegacy, type LegacyKey } from "./token-legacy";
import type { SecretForVersion } from "./token-secrets";

export { KeyNotLoaded, MAX_TOKEN_CHARS, MAX_TOKEN_FIELD_BYTES, tokenFieldTooLong, type TokenKind, type TokenPayload } from "./token-format";
export { domainKey } from "./token-keys";
export { secretsFromSettings, type SecretForVersion } from "./token-secrets";

/** Version, kind byte and the 4-byte domain tag: in the clear, and authenticated as associated data. */
const HEADER_BYTES = 6;
/** XChaCha20's nonce, random per token: 192 bits never repeat by chance, however many links a key makes. */
const NONCE_BYTES = 24;
/** Poly1305's tag. */
const TAG_BYTES = 16;
/** The sealed part's fixed fields: issuedAt (uint32 seconds), then four length bytes. */
const MIN_PLAIN_BYTES = 4 + 4;
const BODY_START = HEADER_BYTES + NONCE_BYTES;

const BASE64URL = { alphabet: "base64url" } as const;
const BASE64URL_UNPADDED = { alphabet: "base64url", omitPadding: true } as const;

/** The token for a payload, or null when it would be longer than MAX_TOKEN_CHARS (a click URL too long to carry). */
export async function signTokenIfFits(payload: TokenPayload, secret: string): Promise<string | null> {
  if (!Number.isInteger(payload.version) || payload.version < 1 || payload.version > 255) throw new RangeError("the key version must be 1 to 255");
  const fields = encodeFields(payload);
  const url = new TextEncoder().encode(payload.kind === "click" ? payload.url : "");
  const plainLength = 4 + fields.length + url.length;
  const length = BODY_START + plainLength + TAG_BYTES;
  if (base64UrlChars(length) > MAX_TOKEN_CHARS) return null;
  const plain = new Uint8Array(plainLength);
  new DataView(plain.buffer).setUint32(0, payload.issuedAt >>> 0);
  plain.set(fields, 4);
  plain.set(url, 4 + fields.length);
  const { tag, key } = await signingKeyFor(secret, payload.domain);
  const token = new Uint8Array(length);
  token[0] = payload.version;
  token[1] = SEALED_FLAG | KIND_CODES[payload.kind] | (payload.https ? HTTPS_FLAG : 0);
  new DataView(token.buffer).setUint32(2, tag);
  const nonce = crypto.getRandomValues(token.subarray(HEADER_BYTES, BODY_START));
  xchacha20poly1305(key, nonce, token.subarray(0, HEADER_BYTES)).encrypt(plain, token.subarray(BODY_START));
  return token.toBase64(BASE64URL_UNPADDED);
}

/** The token for a payload; a RangeError when it would be longer than MAX_TOKEN_CHARS. */
export async function signToken(payload: TokenPayload, secret: string): Promise<string> {
  const token = await signTokenIfFits(payload, secret);
  if (token === null) throw new RangeError(`the token would be longer than ${MAX_TOKEN_CHARS} characters`);
  return token;
}

// Token bytes and the opened payload, in buffers every call reuses: verification runs to the end
// without yielding, so no two calls share them at once. A token is decoded 2 bytes into its buffer,
// so that its nonce and sealed part start on 4-byte boundaries: @noble/ciphers then reads them in
// place, as 32-bit words, instead of copying them first.
const ALIGN = 2;
const decoded = new Uint8Array(ALIGN + MAX_TOKEN_BYTES);
const scratch = decoded.subarray(ALIGN);
const opened = new Uint8Array(MAX_TOKEN_BYTES);

/** Where verifyTokenNow finds keys: this isolate's caches, or (in verifyToken) one just derived. */
interface KeyLookup {
  sealed(secret: string, tag: number): Uint8Array | undefined;
  legacy(secret: string, domain: string): LegacyKey | undefined;
}
const cachedKeys: KeyLookup = { sealed: openingKey, legacy: cachedLegacyKey };

/**
 * Checks a token synchronously: its payload if authentic, null for anything tampered, truncated
 * or unknown, or KeyNotLoaded the first time this isolate sees the token's domain (then call
 * verifyToken, which derives the key). The tracking edge calls this on every hit. Nothing but the
 * clear header (version, kind byte, domain tag) is read before the token proves authentic.
 */
export function verifyTokenNow(token: string, secretFor: SecretForVersion, keys: KeyLookup = cachedKeys): TokenPayload | null | KeyNotLoaded {
  if (token.length > MAX_TOKEN_CHARS) return null;
  const b = scratch;
  let length: number;
  try {
    const { read, written } = b.setFromBase64(token, BASE64URL);
    if (read !== token.length) return null;
    length = written;
  } catch {
    return null; // not base64url
  }
  if (length < 2) return null;
  const secret = secretFor(b[0]!);
  if (!secret) return null;
  const kindByte = b[1]!;
  if (!(kindByte & SEALED_FLAG)) return openLegacy(b, length, secret, keys.legacy);
  const kind = KINDS[kindByte & KIND_MASK];
  if (!kind || kindByte & RESERVED_KIND_BITS || length < BODY_START + MIN_PLAIN_BYTES + TAG_BYTES) return null;
  const tag = ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0;
  const key = keys.sealed(secret, tag);
  if (!key) return new KeyNotLoaded(secret, tag, null);
  const end = length - BODY_START - TAG_BYTES;
  const plain = opened.subarray(0, end);
  try {
    xchacha20poly1305(key, b.subarray(HEADER_BYTES, BODY_START), b.subarray(0, HEADER_BYTES)).decrypt(b.subarray(BODY_START, length), plain);
  } catch {
    return null; // the tag does not match: tampered, truncated, or another key's
  }
  const at = fieldBounds(plain, 4, end);
  if (!at) return null;
  const issuedAt = ((plain[0]! << 24) | (plain[1]! << 16) | (plain[2]! << 8) | plain[3]!) >>> 0;
  return payloadOf(plain, at, end, kind, b[0]!, issuedAt, (kindByte & HTTPS_FLAG) !== 0);
}

/** Returns the payload of an authentic token, or null for anything tampered, truncated or unknown. */
export async function verifyToken(token: string, secretFor: SecretForVersion): Promise<TokenPayload | null> {
  const now = verifyTokenNow(token, secretFor);
  if (!(now instanceof KeyNotLoaded)) return now;
  // Keys are kept only once a token verified: forged tokens naming made-up domains evict nothing.
  if (now.tag !== null) {
    const key = await sealingKeyOf(now.secret, now.tag);
    const later = verifyTokenNow(token, secretFor, { sealed: () => key, legacy: () => undefined });
    if (later === null || later instanceof KeyNotLoaded) return null;
    keepOpeningKey(now.secret, now.tag, key);
    return later;
  }
  const domain = now.legacyDomain!;
  const key = legacyKey(await legacyKeyBytes(now.secret, domain));
  const later = verifyTokenNow(token, secretFor, { sealed: () => undefined, legacy: () => key });
  if (later === null || later instanceof KeyNotLoaded) return null;
  keepLegacyKey(now.secret, domain, key);
  return later;
}
