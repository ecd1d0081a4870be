// Tracking tokens: self-contained link payloads, so the edge checks a hit and reads what it is about
// with no storage lookup (design rule 1). Two formats, told apart by bit 0x40 of the kind byte:
// "sealed" (token-sealed.ts, the default: AES-256-GCM, so a link shows nothing of its recipient,
// Message-ID, URL or domain) and "signed" (token-signed.ts: fields in the clear plus an HMAC, the
// format of every link made before). TRACKING_TOKEN_FORMAT picks the one new links are made in; the
// edge honours both, so switching is safe either way. Layouts and rotation rules in docs/storage.md, "Tokens".
import { encodeFields, MAX_TOKEN_CHARS, SEALED_FLAG, type TokenPayload, type TokenReader } from "./token-format";
import { openSealed, signSealed } from "./token-sealed";
import type { SecretForVersion, TokenFormat } from "./token-secrets";
import { openSigned, signSigned } from "./token-signed";

export { MAX_TOKEN_CHARS, MAX_TOKEN_FIELD_BYTES, type TokenKind, type TokenPayload, type TokenReader, tokenFieldTooLong } from "./token-format";
export { domainKey } from "./token-keys";
export { type SecretForVersion, secretsFromSettings, type TokenFormat, tokenFormatFromSettings } from "./token-secrets";

const encoder = new TextEncoder();
const BASE64URL = { alphabet: "base64url" } as const;

/**
 * The token for a payload in `format` (new links: tokenFormatFromSettings), or null when it would
 * be longer than MAX_TOKEN_CHARS (a click URL too long to carry).
 */
export async function signTokenIfFits(payload: TokenPayload, secret: string, format: TokenFormat = "sealed"): Promise<string | null> {
  if (!Number.isInteger(payload.version) || payload.version < 1 || payload.version > 255) throw new RangeError("the key version must be 1 to 255");
  const fields = encodeFields(payload);
  const url = encoder.encode(payload.kind === "click" ? payload.url : "");
  return format === "sealed" ? signSealed(payload, fields, url, secret) : signSigned(payload, fields, url, secret);
}

/** The token for a payload; a RangeError when it would be longer than MAX_TOKEN_CHARS. */
export async function signToken(payload: TokenPayload, secret: string, format: TokenFormat = "sealed"): Promise<string> {
  const token = await signTokenIfFits(payload, secret, format);
  if (token === null) throw new RangeError(`the token would be longer than ${MAX_TOKEN_CHARS} characters`);
  return token;
}

/**
 * Where a token's bytes are decoded: one buffer per isolate, as long as the longest token. The
 * crypto call that checks a token copies what it needs of these bytes before it returns (WebCrypto
 * copies its arguments), and whatever else is read of them is read before that call, so the next
 * token may be decoded here while the last one's check is still pending.
 */
const TOKEN_BYTES = new Uint8Array(Math.ceil((MAX_TOKEN_CHARS * 3) / 4));

/**
 * `read` applied to the payload of an authentic token of either format, or to null for anything
 * tampered, truncated or unknown; the same microtask as the crypto's result, so a hit takes no
 * promise hop of its own. No storage is read: keys are derived from the secret (once per isolate
 * and domain) and held by WebCrypto, which checks the MAC or opens the seal. What is refused before
 * any crypto (too long, not base64url, an unknown key version) is read at once, without a promise.
 */
export function readToken<T>(token: string, secretFor: SecretForVersion, read: TokenReader<T>): T | Promise<T> {
  if (token.length > MAX_TOKEN_CHARS) return read(null);
  const b = TOKEN_BYTES;
  let length: number;
  try {
    const { read: consumed, written } = b.setFromBase64(token, BASE64URL);
    if (consumed !== token.length) return read(null);
    length = written;
  } catch {
    return read(null); // not base64url
  }
  if (length < 2) return read(null);
  const secret = secretFor(b[0]!);
  if (!secret) return read(null);
  return b[1]! & SEALED_FLAG ? openSealed(b, length, secret, read) : openSigned(b, length, secret, read);
}

const asIs: TokenReader<TokenPayload | null> = (payload) => payload;

/** The payload of an authentic token, or null (at once, without a promise, for what is refused before any crypto). */
export function verifyToken(token: string, secretFor: SecretForVersion): Promise<TokenPayload | null> | null {
  const read = readToken(token, secretFor, asIs);
  return read instanceof Promise ? read : null; // only a refusal is read at once
}
