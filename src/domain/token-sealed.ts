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
  type TokenReader,
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

type AesGcmParamsOf = { name: "AES-GCM"; iv: Uint8Array; additionalData: Uint8Array; tagLength: number };
// The decryption parameters of the last buffer tokens were opened from: the edge decodes every
// token into the same buffer (token.ts), so its nonce and header views are made once, not per hit.
let paramsBuffer: Uint8Array | null = null;
let bufferParams: AesGcmParamsOf | null = null;

function paramsFor(b: Uint8Array): AesGcmParamsOf {
  if (b !== paramsBuffer || !bufferParams) {
    bufferParams = { name: "AES-GCM", iv: b.subarray(HEADER_BYTES, BODY_START), additionalData: b.subarray(0, HEADER_BYTES), tagLength: TAG_BITS };
    paramsBuffer = b;
  }
  return bufferParams;
}

/** The payload in an opened token's plaintext, or null. */
function payloadIn(opened: ArrayBuffer, header: ClearHeader): TokenPayload | null {
  const plain = new Uint8Array(opened);
  const at = fieldBounds(plain, 4, plain.length);
  if (!at) return null;
  return payloadOf(plain, at, plain.length, header.kind, header.version, uint32At(plain, 0), header.https);
}

/** `read` of what b[0..length) opens to with `key` (null when GCM's tag does not match: tampered, truncated, or another key's). */
function openWith<T>(b: Uint8Array, length: number, key: CryptoKey, header: ClearHeader, read: TokenReader<T>): Promise<T> {
  // decrypt copies the nonce, the header and the ciphertext before it returns: b may be reused at once.
  return crypto.subtle.decrypt(paramsFor(b), key, b.subarray(BODY_START, length)).then(
    (opened) => read(payloadIn(opened, header)),
    () => read(null),
  );
}

/**
 * `read` of the payload of an authentic sealed token held in b[0..length), or of null for anything
 * else. Nothing but the clear header (version, kind byte, domain tag, key epoch) is read before
 * GCM's tag matches, and b is not read after this returns (token.ts reuses it). A (tag, epoch) key
 * this isolate has not used yet is derived, and kept only once a token opens with it, so forged
 * tokens naming made-up tags evict nothing.
 */
export function openSealed<T>(b: Uint8Array, length: number, secret: string, read: TokenReader<T>): T | Promise<T> {
  const kindByte = b[1]!;
  const kind = kindOf(kindByte);
  if (!kind || length < BODY_START + MIN_PLAIN_BYTES + TAG_BYTES) return read(null);
  const header: ClearHeader = { kind, version: b[0]!, https: (kindByte & HTTPS_FLAG) !== 0 };
  const tag = uint32At(b, 2);
  const epoch = (b[6]! << 8) | b[7]!;
  const known = openingKey(secret, tag, epoch);
  if (known) return openWith(b, length, known, header, read);
  return openWithNewKey(b.slice(0, length), secret, tag, epoch, header, read); // its own copy: deriving the key yields first
}

/** The first token of a (tag, epoch) in this isolate: its key is derived, and kept only if the token opens with it. */
async function openWithNewKey<T>(b: Uint8Array, secret: string, tag: number, epoch: number, header: ClearHeader, read: TokenReader<T>): Promise<T> {
  let key: CryptoKey;
  try {
    key = await sealingKeyOf(secret, tag, epoch);
  } catch {
    return read(null); // a key that cannot be derived opens nothing
  }
  return openWith(b, b.length, key, header, (payload) => {
    if (payload) keepOpeningKey(secret, tag, epoch, key);
    return read(payload);
  });
}
