// Keys of tracking tokens, derived from the tracking secret of a key version with WebCrypto (native
// code: the secret itself never reaches JavaScript crypto). Each is derived once per isolate and
// kept; the edge keeps a key only once a token has proved authentic with it, so forged tokens
// naming made-up domains evict nothing. Layout and rules in docs/storage.md, "Tokens".

const encoder = new TextEncoder();

/** Bytes of the domain tag a token carries in the clear, in place of its domain. */
export const DOMAIN_TAG_BYTES = 4;
/** At most this many domains' keys kept per secret in an isolate; past it the cache starts over. */
const KEY_CACHE_LIMIT = 2048;

async function importHmacKey(raw: BufferSource): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

async function hmacBytes(secret: string, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await importHmacKey(encoder.encode(secret)), encoder.encode(text)));
}

/**
 * The domain tag: the first 4 bytes of HMAC-SHA256(secret, "tidings/token-domain:" + domain), read
 * big-endian. It tells the edge which key opens a token without naming the domain.
 */
export async function domainTagOf(secret: string, domain: string): Promise<number> {
  const mac = await hmacBytes(secret, `tidings/token-domain:${domain}`);
  return ((mac[0]! << 24) | (mac[1]! << 16) | (mac[2]! << 8) | mac[3]!) >>> 0;
}

const HKDF_SALT = encoder.encode("tidings/tracking-token");
const hkdfRoots = new Map<string, Promise<CryptoKey>>();

function hkdfRoot(secret: string): Promise<CryptoKey> {
  let root = hkdfRoots.get(secret);
  if (!root) {
    if (hkdfRoots.size > 16) hkdfRoots.clear();
    root = crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveBits"]);
    hkdfRoots.set(secret, root);
    root.catch(() => hkdfRoots.delete(secret));
  }
  return root;
}

/**
 * The XChaCha20-Poly1305 key of the domain with this tag:
 * HKDF-SHA256(secret, salt "tidings/tracking-token", info "tidings/token-key:" + the 4 tag bytes), 32 bytes.
 */
export async function sealingKeyOf(secret: string, tag: number): Promise<Uint8Array> {
  const label = encoder.encode("tidings/token-key:");
  const info = new Uint8Array(label.length + DOMAIN_TAG_BYTES);
  info.set(label);
  new DataView(info.buffer).setUint32(label.length, tag);
  const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info }, await hkdfRoot(secret), 256);
  return new Uint8Array(bits);
}

/** What signing needs for a domain: its tag and key. */
export interface SealingKey {
  tag: number;
  key: Uint8Array;
}

// Signing keys by secret, then domain: the secret is the same string object on every call, so its
// hash is cached, and a lookup hashes only the short domain.
const signingKeys = new Map<string, Map<string, Promise<SealingKey>>>();

/** The tag and key tokens of `domain` are sealed with (derived once per isolate). */
export function signingKeyFor(secret: string, domain: string): Promise<SealingKey> {
  let byDomain = signingKeys.get(secret);
  if (!byDomain) signingKeys.set(secret, (byDomain = new Map()));
  let key = byDomain.get(domain);
  if (!key) {
    if (byDomain.size >= KEY_CACHE_LIMIT) byDomain.clear();
    const keys = byDomain;
    key = (async () => {
      const tag = await domainTagOf(secret, domain);
      return { tag, key: await sealingKeyOf(secret, tag) };
    })();
    keys.set(domain, key);
    key.catch(() => keys.delete(domain));
  }
  return key;
}

// Opening keys by secret, then tag (a number: no string is built per hit).
const openingKeys = new Map<string, Map<number, Uint8Array>>();

/** The key for a tag, when a token with it has verified in this isolate. */
export function openingKey(secret: string, tag: number): Uint8Array | undefined {
  return openingKeys.get(secret)?.get(tag);
}

/** Keeps a tag's key, once a token has proved authentic with it. */
export function keepOpeningKey(secret: string, tag: number, key: Uint8Array): void {
  let byTag = openingKeys.get(secret);
  if (!byTag) openingKeys.set(secret, (byTag = new Map()));
  if (byTag.size >= KEY_CACHE_LIMIT) byTag.clear();
  byTag.set(tag, key);
}

// The domain key of signed tokens and of VERP tags, as a WebCrypto HMAC key.
const domainKeys = new Map<string, Map<string, Promise<CryptoKey>>>();

/** HMAC-SHA256(secret, "tidings/tracking:" + name): the per-domain key of signed tokens (and of VERP tags). */
export async function domainKeyBytes(secret: string, name: string): Promise<Uint8Array> {
  return hmacBytes(secret, `tidings/tracking:${name}`);
}

/** The per-domain HMAC signing key (WebCrypto), derived as domainKeyBytes says; VERP tags use it. */
export function domainKey(secret: string, name: string): Promise<CryptoKey> {
  let byName = domainKeys.get(secret);
  if (!byName) domainKeys.set(secret, (byName = new Map()));
  let key = byName.get(name);
  if (!key) {
    if (byName.size >= KEY_CACHE_LIMIT) byName.clear();
    const keys = byName;
    key = domainKeyBytes(secret, name).then(importHmacKey);
    keys.set(name, key);
    key.catch(() => keys.delete(name));
  }
  return key;
}
