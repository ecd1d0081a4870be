// Tracking tokens: self-contained link payloads, so the edge checks a hit and reads what it is about
// with no storage lookup (design rule 1). Two formats, told apart by bit 0x40 of the kind byte:
// "sealed" (token-sealed.ts, the default: AES-256-GCM, so a link shows nothing of its recipient,
// Message-ID, URL or domain) and "signed" (token-signed.ts: fields in the clear plus an HMAC, the
// format of every link made before). TRACKING_TOKEN_FORMAT picks the one new links are made in; the
// edge honours both, so switching is safe either way. Layouts and rotation rules in docs/storage.md, "Tokens".
import { encodeFields, MAX_TOKEN_CHARS, SEALED_FLAG, type TokenPayload } from "./token-format";
import { openSealed, signSealed } from "./token-sealed";
import type { SecretForVersion, TokenFormat } from "./token-secrets";
import { openSigned, signSigned } from "./token-signed";

export { MAX_TOKEN_CHARS, MAX_TOKEN_FIELD_BYTES, type TokenKind, type TokenPayload, tokenFieldTooLong } from "./token-format";
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
 * The payload of an authentic token of either format, or null for anything tampered, truncated or
 * unknown. No storage is read: keys are derived from the secret (once per isolate and domain) and
 * held by WebCrypto, which checks the MAC or opens the seal. The tracking edge calls this on every
 * hit; what is refused before any crypto (too long, not base64url, an unknown key version) is
 * answered null at once, without a promise.
 */
export function verifyToken(token: string, secretFor: SecretForVersion): Promise<TokenPayload | null> | null {
  if (token.length > MAX_TOKEN_CHARS) return null;
  const b = new Uint8Array(Math.ceil((token.length * 3) / 4)); // this call's own: verifying yields
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
  return b[1]! & SEALED_FLAG ? openSealed(b, length, secret) : openSigned(b, length, secret);
}
