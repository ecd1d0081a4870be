// What both token formats share: the payload, the kind byte, the limits, and reading the
// length-prefixed fields once a token's bytes are authentic. Layouts in docs/storage.md, "Tokens".
import { utf8ByteLength } from "./utf8";

export type TokenKind = "open" | "click" | "unsubscribe" | "tag-unsubscribe";

export interface TokenPayload {
  kind: TokenKind;
  /** Key version the token was made with (1..255). */
  version: number;
  /** Unix seconds when the message was prepared; bot rules compare click times with it. */
  issuedAt: number;
  /** The domain's web_prefix when the link was made; with `domain` it names the tracking host. */
  webPrefix: string;
  domain: string;
  messageId: string;
  recipient: string;
  /** Destination of a click token; "" for the other kinds. */
  url: string;
  /**
   * Set when the link was made as an https:// link on the domain's own tracking host (its
   * certificate was active): a plain-http request for it is sent to https. Absent in older tokens.
   */
  https?: boolean;
}

/** What a token's check hands on: the payload of an authentic token, or null. */
export type TokenReader<T> = (payload: TokenPayload | null) => T;

export const KIND_CODES: Record<TokenKind, number> = { open: 1, click: 2, unsubscribe: 3, "tag-unsubscribe": 4 };
export const KINDS: ReadonlyArray<TokenKind | undefined> = [undefined, "open", "click", "unsubscribe", "tag-unsubscribe"];
/** Bit 7 of the kind byte: an https link. */
export const HTTPS_FLAG = 0x80;
/** Bit 6 of the kind byte: a sealed (encrypted) token. Signed tokens never set it (their kinds are 1-4). */
export const SEALED_FLAG = 0x40;
/** Bits 0-2 of the kind byte: the kind's code. Bits 3-5 are zero in every token made so far. */
export const KIND_MASK = 0x07;
export const RESERVED_KIND_BITS = 0x38;

/** The kind a token's kind byte names, or undefined for an unknown code or a reserved bit set. */
export function kindOf(kindByte: number): TokenKind | undefined {
  return kindByte & RESERVED_KIND_BITS ? undefined : KINDS[kindByte & KIND_MASK];
}

/** The big-endian unsigned 32-bit number at b[at..at+4). */
export function uint32At(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * Longest web prefix, domain, message id or recipient a token holds: each is length-prefixed by one
 * byte. Unit: bytes of UTF-8. Whatever ends up in a token is checked against this at the API.
 */
export const MAX_TOKEN_FIELD_BYTES = 255;

/**
 * The longest token the edge accepts (unit: base64url characters): the one limit on a token's
 * size, shared by the signer (a link whose token would be longer is left untracked) and the edge
 * (a longer token is refused unread). 4,096 characters are 3,072 bytes.
 */
export const MAX_TOKEN_CHARS = 4096;

/** Characters of the unpadded base64url text of `bytes` bytes. */
export const base64UrlChars = (bytes: number) => Math.ceil((bytes * 4) / 3);

/**
 * The first of a token's length-prefixed fields that does not fit (its name as the API calls it),
 * or null when a token can be made for them: callers check before anything is stored, so that
 * signing can never fail half-way through a request.
 */
export function tokenFieldTooLong(fields: Pick<TokenPayload, "webPrefix" | "domain" | "messageId" | "recipient">): string | null {
  const named: Array<[string, string]> = [
    ["web_prefix", fields.webPrefix],
    ["domain", fields.domain],
    ["message_id", fields.messageId],
    ["recipient", fields.recipient],
  ];
  for (const [name, value] of named) if (utf8ByteLength(value) > MAX_TOKEN_FIELD_BYTES) return name;
  return null;
}

// ignoreBOM: a field's leading U+FEFF is part of the field as it was signed, not a byte-order mark.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** bytes[start..end) as text: the usual all-ASCII field without a decoder; null on invalid UTF-8. */
export function fieldText(bytes: Uint8Array, start: number, end: number): string | null {
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      try {
        return decoder.decode(bytes.subarray(start, end));
      } catch {
        return null;
      }
    }
  }
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/** Where the length-prefixed fields of a token body start and end; null when they overrun it. */
export interface FieldBounds {
  prefixStart: number;
  domainStart: number;
  messageIdStart: number;
  recipientStart: number;
  urlStart: number;
}

/** The four length-prefixed fields (web prefix, domain, message id, recipient) from `start`, then the URL up to `end`. */
export function fieldBounds(b: Uint8Array, start: number, end: number): FieldBounds | null {
  if (start >= end) return null;
  const prefixStart = start + 1;
  const domainStart = prefixStart + b[start]! + 1;
  if (domainStart > end) return null;
  const messageIdStart = domainStart + b[domainStart - 1]! + 1;
  if (messageIdStart > end) return null;
  const recipientStart = messageIdStart + b[messageIdStart - 1]! + 1;
  if (recipientStart > end) return null;
  const urlStart = recipientStart + b[recipientStart - 1]!;
  if (urlStart > end) return null;
  return { prefixStart, domainStart, messageIdStart, recipientStart, urlStart };
}

// Decodes a token's fields region at once; `fatal`, so that a decoded text as long as its bytes
// means every byte was ASCII (a valid multi-byte sequence always decodes to fewer UTF-16 units).
const wholeDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The fields region b[at.prefixStart..end) as one string when every byte of it is ASCII, or null.
 * The usual token: its fields are then cut from this one string (one native decode) instead of each
 * being decoded on its own. A length byte of 128 or more (a field that long) is not ASCII either,
 * and is checked first so that the decoder never throws on it.
 */
function asciiText(b: Uint8Array, at: FieldBounds, end: number): string | null {
  if ((b[at.domainStart - 1]! | b[at.messageIdStart - 1]! | b[at.recipientStart - 1]!) >= 0x80) return null;
  try {
    const text = wholeDecoder.decode(b.subarray(at.prefixStart, end));
    return text.length === end - at.prefixStart ? text : null;
  } catch {
    return null; // not UTF-8 (only in bytes not yet authenticated): each field is decoded on its own, and refused
  }
}

/** The payload held in authentic bytes, or null when a field is not valid UTF-8 or the URL does not match the kind. */
export function payloadOf(
  b: Uint8Array,
  at: FieldBounds,
  end: number,
  kind: TokenKind,
  version: number,
  issuedAt: number,
  https: boolean,
): TokenPayload | null {
  if ((kind === "click") !== at.urlStart < end) return null;
  const base = at.prefixStart;
  const text = asciiText(b, at, end);
  const field = (start: number, stop: number) => (text === null ? fieldText(b, start, stop) : text.slice(start - base, stop - base));
  const webPrefix = field(at.prefixStart, at.domainStart - 1);
  const domain = field(at.domainStart, at.messageIdStart - 1);
  const messageId = field(at.messageIdStart, at.recipientStart - 1);
  const recipient = field(at.recipientStart, at.urlStart);
  const url = field(at.urlStart, end);
  if (webPrefix === null || domain === null || messageId === null || recipient === null || url === null) return null;
  const payload: TokenPayload = { kind, version, issuedAt, webPrefix, domain, messageId, recipient, url };
  if (https) payload.https = true;
  return payload;
}

const encoder = new TextEncoder();

/** The length-prefixed fields of a payload, in order; a RangeError for a field over MAX_TOKEN_FIELD_BYTES. */
export function encodeFields(payload: TokenPayload): number[] {
  const parts: number[] = [];
  const push = (value: string, name: string) => {
    const bytes = encoder.encode(value);
    if (bytes.length > MAX_TOKEN_FIELD_BYTES) throw new RangeError(`${name} is longer than ${MAX_TOKEN_FIELD_BYTES} bytes`);
    parts.push(bytes.length, ...bytes);
  };
  push(payload.webPrefix, "web_prefix");
  push(payload.domain, "domain");
  push(payload.messageId, "message_id");
  push(payload.recipient, "recipient");
  return parts;
}
