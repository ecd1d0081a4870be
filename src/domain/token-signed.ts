// Signed tokens (TRACKING_TOKEN_FORMAT "signed"; every link made before sealed tokens): the link's
// fields in the clear, then 16 bytes of HMAC-SHA256 under the domain's key, computed by WebCrypto
// both when made and at the edge. Readable by whoever sees the link. Layout in docs/storage.md, "Tokens".
// Layout: version, kind (1-4, plus 0x80 for https), issuedAt (uint32), four length-prefixed
// fields, the URL, then the first 16 bytes of HMAC-SHA256(domain key, all of that).
import {
  base64UrlChars,
  fieldBounds,
  fieldText,
  HTTPS_FLAG,
  KIND_CODES,
  kindOf,
  MAX_TOKEN_CHARS,
  payloadOf,
  type TokenPayload,
  uint32At,
} from "./token-format";
import { domainKey, freshDomainKey, keepVerifiedDomainKey, verifiedDomainKey } from "./token-keys";

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
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await domainKey(secret, payload.domain), body));
  token.set(mac.subarray(0, SIGNATURE_BYTES), bodyLength);
  return token.toBase64(BASE64URL_UNPADDED);
}

/**
 * The payload of an authentic signed token held in b[0..length) (the caller's own bytes: checking yields), or null for anything else. The
 * domain is read before the MAC is checked only to pick the key; nothing else is used until the MAC
 * matches. A domain's key is kept only once a token of it verifies, so forged tokens naming made-up
 * domains evict nothing.
 */
export function openSigned(b: Uint8Array, length: number, secret: string): Promise<TokenPayload | null> | null {
  const kindByte = b[1]!;
  const kind = kindOf(kindByte);
  if (!kind || length < HEADER_BYTES + 4 + SIGNATURE_BYTES) return null;
  const bodyLength = length - SIGNATURE_BYTES;
  const at = fieldBounds(b, HEADER_BYTES, bodyLength);
  if (!at) return null;
  const domain = fieldText(b, at.domainStart, at.messageIdStart - 1);
  if (domain === null) return null;
  const https = (kindByte & HTTPS_FLAG) !== 0;
  const check = (key: CryptoKey) =>
    crypto.subtle.sign("HMAC", key, b.subarray(0, bodyLength)).then((signature) => {
      const mac = new Uint8Array(signature);
      let diff = 0;
      for (let i = 0; i < SIGNATURE_BYTES; i++) diff |= mac[i]! ^ b[bodyLength + i]!;
      if (diff !== 0) return null;
      const issuedAt = uint32At(b, 2);
      return payloadOf(b, at, bodyLength, kind, b[0]!, issuedAt, https);
    });
  const known = verifiedDomainKey(secret, domain);
  if (known) return check(known);
  return freshDomainKey(secret, domain).then(async (key) => {
    const payload = await check(key);
    if (payload) keepVerifiedDomainKey(secret, domain, key);
    return payload;
  });
}
