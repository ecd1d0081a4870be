// Sealed tokens (TRACKING_TOKEN_FORMAT "sealed"): encrypted and authenticated (XChaCha20-Poly1305,
// @noble/ciphers), so nobody who sees a link can read the recipient, the Message-ID, the URL or
// the domain in it. Dearer to check than a signed token (about 10 µs a hit in workerd, against
// about 1 µs). Layout in docs/storage.md, "Tokens".
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { base64UrlChars, fieldBounds, HTTPS_FLAG, KeyNotLoaded, KIND_CODES, KIND_MASK, KINDS, MAX_TOKEN_BYTES, MAX_TOKEN_CHARS, payloadOf, RESERVED_KIND_BITS, SEALED_FLAG, type TokenPayload } from "./token-format";
import { signingKeyFor } from "./token-keys";

/** Version, kind byte and the 4-byte domain tag: in the clear, and authenticated as associated data. */
const HEADER_BYTES = 6;
/** XChaCha20's nonce, random per token: 192 bits never repeat by chance, however many links a key makes. */
const NONCE_BYTES = 24;
/** Poly1305's tag. */
const TAG_BYTES = 16;
/** The sealed part's fixed fields: issuedAt (uint32 seconds), then four length bytes. */
const MIN_PLAIN_BYTES = 4 + 4;
const BODY_START = HEADER_BYTES + NONCE_BYTES;
const BASE64URL_UNPADDED = { alphabet: "base64url", omitPadding: true } as const;

/** The sealed token for a payload (its fields already encoded), or null when it would pass MAX_TOKEN_CHARS. */
export async function signSealed(payload: TokenPayload, fields: number[], url: Uint8Array, secret: string): Promise<string | null> {
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

/** The opened payload, in a buffer every call reuses: opening runs to the end without yielding. */
const opened = new Uint8Array(MAX_TOKEN_BYTES);

/**
 * The payload of an authentic sealed token held in b[0..length), null for anything else, or
 * KeyNotLoaded when this isolate has no key for its domain tag yet. Nothing but the clear header
 * (version, kind byte, domain tag) is read before the Poly1305 tag matches.
 */
export function openSealed(b: Uint8Array, length: number, secret: string, keyFor: (secret: string, tag: number) => Uint8Array | undefined): TokenPayload | null | KeyNotLoaded {
  const kindByte = b[1]!;
  const kind = KINDS[kindByte & KIND_MASK];
  if (!kind || kindByte & RESERVED_KIND_BITS || length < BODY_START + MIN_PLAIN_BYTES + TAG_BYTES) return null;
  const tag = ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0;
  const key = keyFor(secret, tag);
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
