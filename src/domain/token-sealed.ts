// Sealed tokens (TRACKING_TOKEN_FORMAT "sealed", the default): encrypted and authenticated with
// AES-256-GCM by WebCrypto (the runtime's BoringSSL: native, audited, no JavaScript crypto), so
// nobody who sees a link can read the recipient, the Message-ID, the URL or the domain in it.
// Layout in docs/storage.md, "Tokens".
import {
  base64UrlChars,
  fieldBounds,
  HTTPS_FLAG,
  KIND_CODES,
  kindOf,
  MAX_TOKEN_CHARS,
  payloadOf,
  SEALED_FLAG,
  type TokenKind,
  type TokenPayload,
  uint32At,
} from "./token-format";
import { keepOpeningKey, keyEpochOf, openingKey, sealingKeyOf, signingKeyFor } from "./token-keys";

/** Version, kind byte, the 4-byte domain tag and the 2-byte key epoch: in the clear, and authenticated as associated data. */
const HEADER_BYTES = 8;
/** AES-GCM's 96-bit nonce, random per token; keys change every month (token-keys.ts, keyEpochOf). */
const NONCE_BYTES = 12;
/** GCM's tag, at its full 128 bits. */
const TAG_BITS = 128;
const TAG_BYTES = TAG_BITS / 8;
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
  const epoch = keyEpochOf(payload.issuedAt);
  const { tag, key } = await signingKeyFor(secret, payload.domain, epoch);
  const token = new Uint8Array(length);
  const view = new DataView(token.buffer);
  token[0] = payload.version;
  token[1] = SEALED_FLAG | KIND_CODES[payload.kind] | (payload.https ? HTTPS_FLAG : 0);
  view.setUint32(2, tag);
  view.setUint16(6, epoch);
  const nonce = crypto.getRandomValues(token.subarray(HEADER_BYTES, BODY_START));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: token.subarray(0, HEADER_BYTES), tagLength: TAG_BITS }, key, plain);
  token.set(new Uint8Array(sealed), BODY_START);
  return token.toBase64(BASE64URL_UNPADDED);
}

interface ClearHeader {
  kind: TokenKind;
  version: number;
  https: boolean;
}

/** Opens b[0..length) with `key`. */
function openWith(b: Uint8Array, length: number, key: CryptoKey, header: ClearHeader): Promise<TokenPayload | null> {
  const params = { name: "AES-GCM", iv: b.subarray(HEADER_BYTES, BODY_START), additionalData: b.subarray(0, HEADER_BYTES), tagLength: TAG_BITS };
  return crypto.subtle.decrypt(params, key, b.subarray(BODY_START, length)).then(
    (opened) => {
      const plain = new Uint8Array(opened);
      const at = fieldBounds(plain, 4, plain.length);
      if (!at) return null;
      const issuedAt = uint32At(plain, 0);
      return payloadOf(plain, at, plain.length, header.kind, header.version, issuedAt, header.https);
    },
    () => null, // GCM's tag does not match: tampered, truncated, or another key's
  );
}

/**
 * The payload of an authentic sealed token held in b[0..length) (the caller's own bytes: opening yields), or null for anything else. Nothing
 * but the clear header (version, kind byte, domain tag, key epoch) is read before GCM's tag matches.
 * A (tag, epoch) key this isolate has not used yet is derived, and kept only once a token opens
 * with it, so forged tokens naming made-up tags evict nothing.
 */
export function openSealed(b: Uint8Array, length: number, secret: string): Promise<TokenPayload | null> | null {
  const kindByte = b[1]!;
  const kind = kindOf(kindByte);
  if (!kind || length < BODY_START + MIN_PLAIN_BYTES + TAG_BYTES) return null;
  const header: ClearHeader = { kind, version: b[0]!, https: (kindByte & HTTPS_FLAG) !== 0 };
  const tag = uint32At(b, 2);
  const epoch = (b[6]! << 8) | b[7]!;
  const known = openingKey(secret, tag, epoch);
  if (known) return openWith(b, length, known, header);
  return openWithNewKey(b, length, secret, tag, epoch, header);
}

/** The first token of a (tag, epoch) in this isolate: its key is derived, and kept only if the token opens with it. */
async function openWithNewKey(b: Uint8Array, length: number, secret: string, tag: number, epoch: number, header: ClearHeader): Promise<TokenPayload | null> {
  const key = await sealingKeyOf(secret, tag, epoch);
  const payload = await openWith(b, length, key, header);
  if (payload) keepOpeningKey(secret, tag, epoch, key);
  return payload;
}
