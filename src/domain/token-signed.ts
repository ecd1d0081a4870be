// Signed tokens (TRACKING_TOKEN_FORMAT "signed"; every link made before sealed tokens): the link's
// fields in the clear, then 16 bytes of HMAC-SHA256 under the domain's key, computed by WebCrypto
// both when made and at the edge. Readable by whoever sees the link. Layout in docs/storage.md, "Tokens".
// Layout: version, kind (1-4, plus 0x80 for https), issuedAt (uint32), four length-prefixed
// fields, the URL, then the first 16 bytes of HMAC-SHA256(domain key, all of that).
import {
  base64UrlChars,
  fieldBounds,
  HTTPS_FLAG,
  KIND_CODES,
  kindOf,
  MAX_TOKEN_CHARS,
  payloadOf,
  type TokenPayload,
  type TokenReader,
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
 * `read` of the payload of an authentic signed token held in b[0..length), or of null for anything
 * else. Its fields are read here, before the MAC is checked, because b is not read after this
 * returns (token.ts reuses it); the domain picks the key, and nothing is handed on until the MAC
 * matches. A domain's key is kept only once a token of it verifies, so forged tokens naming made-up
 * domains evict nothing.
 */
export function openSigned<T>(b: Uint8Array, length: number, secret: string, read: TokenReader<T>): T | Promise<T> {
  const kindByte = b[1]!;
  const kind = kindOf(kindByte);
  if (!kind || length < HEADER_BYTES + 4 + SIGNATURE_BYTES) return read(null);
  const bodyLength = length - SIGNATURE_BYTES;
  const at = fieldBounds(b, HEADER_BYTES, bodyLength);
  if (!at) return read(null);
  const payload = payloadOf(b, at, bodyLength, kind, b[0]!, uint32At(b, 2), (kindByte & HTTPS_FLAG) !== 0);
  if (!payload) return read(null);
  // The token's MAC as four numbers: compared once the runtime's MAC is back, with no copy of b.
  const m0 = uint32At(b, bodyLength);
  const m1 = uint32At(b, bodyLength + 4);
  const m2 = uint32At(b, bodyLength + 8);
  const m3 = uint32At(b, bodyLength + 12);
  const matches = (signature: ArrayBuffer) => {
    const mac = new Uint8Array(signature);
    return ((uint32At(mac, 0) ^ m0) | (uint32At(mac, 4) ^ m1) | (uint32At(mac, 8) ^ m2) | (uint32At(mac, 12) ^ m3)) === 0;
  };
  const known = verifiedDomainKey(secret, payload.domain);
  // sign copies the body before it returns: b may be reused at once.
  if (known) {
    return crypto.subtle.sign("HMAC", known, b.subarray(0, bodyLength)).then(
      (signature) => read(matches(signature) ? payload : null),
      () => read(null),
    );
  }
  const body = b.slice(0, bodyLength); // its own copy: deriving the key yields first
  return freshDomainKey(secret, payload.domain)
    .then((key) =>
      crypto.subtle.sign("HMAC", key, body).then((signature) => {
        if (!matches(signature)) return false;
        keepVerifiedDomainKey(secret, payload.domain, key);
        return true;
      }),
    )
    .then(
      (authentic) => read(authentic ? payload : null),
      () => read(null), // a key that cannot be derived verifies nothing
    );
}
