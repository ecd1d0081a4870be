// Tracking tokens: self-contained link payloads, so the edge checks a hit and reads what it is about
// with no storage lookup (design rule 1). Two formats, told apart by bit 0x40 of the kind byte:
// "signed" (token-signed.ts: fields in the clear plus an HMAC, the cheapest to check) and "sealed"
// (token-sealed.ts: encrypted, so a link shows nothing of its recipient, Message-ID or URL, at about
// 10 µs more a hit). TRACKING_TOKEN_FORMAT picks the one new links are made in; the edge honours
// both, so switching is safe either way. Layouts and rotation rules in docs/storage.md, "Tokens".
import { encodeFields, KeyNotLoaded, MAX_TOKEN_BYTES, MAX_TOKEN_CHARS, SEALED_FLAG, type TokenPayload } from "./token-format";
import { keepOpeningKey, openingKey, sealingKeyOf } from "./token-keys";
import { openSealed, signSealed } from "./token-sealed";
import { cachedSignedKey, keepSignedKey, openSigned, signedKeyOf, signSigned, type SignedKey } from "./token-signed";
import type { SecretForVersion, TokenFormat } from "./token-secrets";

export { KeyNotLoaded, MAX_TOKEN_CHARS, MAX_TOKEN_FIELD_BYTES, tokenFieldTooLong, type TokenKind, type TokenPayload } from "./token-format";
export { domainKey } from "./token-keys";
export { secretsFromSettings, tokenFormatFromSettings, type SecretForVersion, type TokenFormat } from "./token-secrets";

const encoder = new TextEncoder();
const BASE64URL = { alphabet: "base64url" } as const;

/**
 * The token for a payload in `format` (new links: tokenFormatFromSettings), or null when it would
 * be longer than MAX_TOKEN_CHARS (a click URL too long to carry).
 */
export async function signTokenIfFits(payload: TokenPayload, secret: string, format: TokenFormat = "signed"): Promise<string | null> {
  if (!Number.isInteger(payload.version) || payload.version < 1 || payload.version > 255) throw new RangeError("the key version must be 1 to 255");
  const fields = encodeFields(payload);
  const url = encoder.encode(payload.kind === "click" ? payload.url : "");
  return format === "sealed" ? signSealed(payload, fields, url, secret) : signSigned(payload, fields, url, secret);
}

/** The token for a payload; a RangeError when it would be longer than MAX_TOKEN_CHARS. */
export async function signToken(payload: TokenPayload, secret: string, format: TokenFormat = "signed"): Promise<string> {
  const token = await signTokenIfFits(payload, secret, format);
  if (token === null) throw new RangeError(`the token would be longer than ${MAX_TOKEN_CHARS} characters`);
  return token;
}

// Token bytes, in a buffer every call reuses: verification runs to the end without yielding, so no
// two calls share it at once. A token is decoded 2 bytes into it, so that a sealed token's nonce
// and sealed part start on 4-byte boundaries: @noble/ciphers then reads them in place, as 32-bit
// words, instead of copying them first.
const ALIGN = 2;
const decoded = new Uint8Array(ALIGN + MAX_TOKEN_BYTES);
const scratch = decoded.subarray(ALIGN);

/** Where verifyTokenNow finds keys: this isolate's caches, or (in verifyToken) one just derived. */
interface KeyLookup {
  sealed(secret: string, tag: number): Uint8Array | undefined;
  signed(secret: string, domain: string): SignedKey | undefined;
}
const cachedKeys: KeyLookup = { sealed: openingKey, signed: cachedSignedKey };

/**
 * Checks a token of either format synchronously: its payload if authentic, null for anything
 * tampered, truncated or unknown, or KeyNotLoaded the first time this isolate sees the token's
 * domain (then call verifyToken, which derives the key). The tracking edge calls this on every hit.
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
  return b[1]! & SEALED_FLAG ? openSealed(b, length, secret, keys.sealed) : openSigned(b, length, secret, keys.signed);
}

/** Returns the payload of an authentic token, or null for anything tampered, truncated or unknown. */
export async function verifyToken(token: string, secretFor: SecretForVersion): Promise<TokenPayload | null> {
  const now = verifyTokenNow(token, secretFor);
  if (!(now instanceof KeyNotLoaded)) return now;
  // Keys are kept only once a token verified: forged tokens naming made-up domains evict nothing.
  if (now.tag !== null) {
    const key = await sealingKeyOf(now.secret, now.tag);
    const later = verifyTokenNow(token, secretFor, { sealed: () => key, signed: () => undefined });
    if (later === null || later instanceof KeyNotLoaded) return null;
    keepOpeningKey(now.secret, now.tag, key);
    return later;
  }
  const domain = now.domain!;
  const key = await signedKeyOf(now.secret, domain);
  const later = verifyTokenNow(token, secretFor, { sealed: () => undefined, signed: () => key });
  if (later === null || later instanceof KeyNotLoaded) return null;
  keepSignedKey(now.secret, domain, key);
  return later;
}
