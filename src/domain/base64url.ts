// URL-safe base64 without padding: tokens and cursors end up as the last path segment of a URL
// (mailgun.js splits paging URLs on "/"), so "+", "/" and "=" are not allowed in them.
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from "./json-bounds";

// The runtime's own codec (TC39 Uint8Array.fromBase64 / toBase64, in workerd's V8) does the work:
// faster than the hand-written loops it replaced (bench/hot-path-parts.bench.ts).

const URL_SAFE = { alphabet: "base64url", omitPadding: true } as const;
const URL_SAFE_TEXT = /^[A-Za-z0-9_-]*$/;

export function encodeBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64(URL_SAFE);
}

/**
 * The bytes of unpadded base64url text, or null for anything else. The runtime's decoder also
 * skips whitespace and takes "=" padding; a cursor or VERP payload is refused with either, so the
 * alphabet is checked first.
 */
export function decodeBase64Url(text: string): Uint8Array | null {
  if (!URL_SAFE_TEXT.test(text)) return null;
  try {
    return Uint8Array.fromBase64(text, { alphabet: "base64url", lastChunkHandling: "loose" });
  } catch {
    return null; // a final chunk of one character
  }
}

/** Standard base64 (with + / and padding), for MIME parts and stored attachments. */
export function encodeBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

export function decodeBase64(text: string): Uint8Array {
  return Uint8Array.fromBase64(text);
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
