// URL-safe base64 without padding: tokens and cursors end up as the last path segment of a URL
// (mailgun.js splits paging URLs on "/"), so "+", "/" and "=" are not allowed in them.
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from "./json-bounds";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const ALPHABET_CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));

export function encodeBase64Url(bytes: Uint8Array): string {
  // Character codes first, one string at the end: string concatenation per character is slow.
  const codes: number[] = [];
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    codes.push(ALPHABET_CODES[n >> 18]!, ALPHABET_CODES[(n >> 12) & 63]!, ALPHABET_CODES[(n >> 6) & 63]!, ALPHABET_CODES[n & 63]!);
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    codes.push(ALPHABET_CODES[n >> 18]!, ALPHABET_CODES[(n >> 12) & 63]!);
    if (rest === 2) codes.push(ALPHABET_CODES[(n >> 6) & 63]!);
  }
  let out = "";
  // fromCharCode.apply takes a bounded number of arguments: go in chunks for long inputs.
  for (let at = 0; at < codes.length; at += 8192) out += String.fromCharCode.apply(null, codes.slice(at, at + 8192));
  return out;
}

type FromBase64 = (text: string, options: { alphabet: "base64url"; lastChunkHandling: "loose" }) => Uint8Array;
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64?.bind(Uint8Array);

const SEXTETS = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;

/**
 * Returns null for anything that is not well-formed base64url. A table lookup rather than
 * atob: this runs on every tracking hit, and it validates while it decodes.
 */
export function decodeBase64Url(text: string): Uint8Array | null {
  if (nativeFromBase64) {
    // The runtime's own decoder (TC39 Uint8Array.fromBase64) when it has one: about a third faster.
    if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
    try {
      return nativeFromBase64(text, { alphabet: "base64url", lastChunkHandling: "loose" });
    } catch {
      return null;
    }
  }
  return decodeBase64UrlPortable(text);
}

/** The same decoding in plain JavaScript, for runtimes without Uint8Array.fromBase64. */
export function decodeBase64UrlPortable(text: string): Uint8Array | null {
  const length = text.length;
  if (length % 4 === 1) return null;
  const bytes = new Uint8Array((length * 3) >> 2);
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    const sextet = code < 128 ? SEXTETS[code]! : -1;
    if (sextet < 0) return null;
    buffer = ((buffer << 6) | sextet) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (buffer >> bits) & 0xff;
    }
  }
  return bytes;
}

/**
 * Decodes base64url into `out` (which must hold 3/4 of text.length bytes) and returns the number
 * of bytes written, or -1 for anything that is not well-formed base64url. Allocates nothing: the
 * token check on the hot path decodes into one reused buffer.
 */
export function decodeBase64UrlInto(text: string, out: Uint8Array): number {
  const length = text.length;
  if (length % 4 === 1 || ((length * 3) >> 2) > out.length) return -1;
  let at = 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    if ((a | b | c | d) >= 128) return -1;
    const n = (SEXTETS[a]! << 18) | (SEXTETS[b]! << 12) | (SEXTETS[c]! << 6) | SEXTETS[d]!;
    if (n < 0) return -1; // any -1 sextet makes the whole word negative
    out[at] = n >> 16;
    out[at + 1] = n >> 8;
    out[at + 2] = n;
    at += 3;
  }
  const rest = length - i;
  if (rest > 0) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = rest === 3 ? text.charCodeAt(i + 2) : 65; // "A": zero bits
    if ((a | b | c) >= 128) return -1;
    const n = (SEXTETS[a]! << 18) | (SEXTETS[b]! << 12) | (SEXTETS[c]! << 6);
    if (n < 0) return -1;
    out[at++] = n >> 16;
    if (rest === 3) out[at++] = n >> 8;
  }
  return at;
}

/** Standard base64 (with + / and padding), for MIME parts and stored attachments. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let at = 0; at < bytes.length; at += 0x8000) binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  return btoa(binary);
}

export function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function encodeJsonBase64Url(value: unknown): string {
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)));
}

/** The JSON value in a base64url text (a paging token from a URL), or undefined; nested at most MAX_JSON_DEPTH. */
export function decodeJsonBase64Url(text: string): unknown {
  const bytes = decodeBase64Url(text);
  if (!bytes) return undefined;
  try {
    const json = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    return jsonNestsDeeperThan(json, MAX_JSON_DEPTH) ? undefined : JSON.parse(json);
  } catch {
    return undefined;
  }
}

/** Random base64url text drawn from in slices; refilled from the CSPRNG when used up. */
let randomText = "";
let randomAt = 0;
const ID_LENGTH = 22;
const POOL_BYTES = 1023; // a multiple of 3: 1,364 characters, 62 ids per refill

/**
 * 22 random base64url characters (132 bits), the shape of Mailgun's event ids. Ids are cut
 * from a pool of random text, because encoding 16 fresh bytes per id cost more than the rest of
 * a tracking hit's bookkeeping; every character still comes from crypto.getRandomValues.
 */
export function randomId(): string {
  if (randomAt + ID_LENGTH > randomText.length) {
    randomText = encodeBase64Url(crypto.getRandomValues(new Uint8Array(POOL_BYTES)));
    randomAt = 0;
  }
  randomAt += ID_LENGTH;
  return randomText.slice(randomAt - ID_LENGTH, randomAt);
}

/**
 * A 22-character id fixed by what it names (SHA-256 of the parts): an event made twice for the
 * same thing — a redelivered job, a repeated report — gets the same id and is stored once.
 */
export async function derivedId(...parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\u0000")));
  return encodeBase64Url(new Uint8Array(digest).subarray(0, 16));
}
