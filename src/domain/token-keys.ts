// Keys of tracking tokens, derived from the tracking secret of a key version with WebCrypto (native
// code: the secret itself never reaches JavaScript crypto). Each is derived once per isolate and
// kept; the edge keeps a key only once a token has proved authentic with it, so forged tokens
// naming made-up domains evict nothing. Layout and rules in docs/storage.md, "Tokens".

const encoder = new TextEncoder();

/** Bytes of the domain tag a token carries in the clear, in place of its domain. */
export const DOMAIN_TAG_BYTES = 4;
/** At most this many domains' keys kept per secret in an isolate; past it the cache starts over. */
const KEY_CACHE_LIMIT = 2048;

/**
 * Keys by secret, then by domain (or tag): the secret is the same string object on every call, so
 * its hash is cached, and a lookup hashes only the short second key, building no joined string.
 */
export class KeyCache<K, V> {
  readonly #bySecret = new Map<string, Map<K, V>>();

  get(secret: string, key: K): V | undefined {
    return this.#bySecret.get(secret)?.get(key);
  }

  set(secret: string, key: K, value: V): void {
    let byKey = this.#bySecret.get(secret);
    if (!byKey) this.#bySecret.set(secret, (byKey = new Map()));
    if (byKey.size >= KEY_CACHE_LIMIT) byKey.clear();
    byKey.set(key, value);
  }

  delete(secret: string, key: K): void {
    this.#bySecret.get(secret)?.delete(key);
  }
}

/** The value for (secret, key), derived once; a derivation that fails is forgotten, so the next call tries again. */
function derivedOnce<K, T>(cache: KeyCache<K, Promise<T>>, secret: string, key: K, derive: () => Promise<T>): Promise<T> {
  let value = cache.get(secret, key);
  if (!value) {
    const made = (value = derive());
    cache.set(secret, key, made);
    made.catch(() => {
      if (cache.get(secret, key) === made) cache.delete(secret, key);
    });
  }
  return value;
}

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

const signingKeys = new KeyCache<string, Promise<SealingKey>>();

/** The tag and key tokens of `domain` are sealed with (derived once per isolate). */
export function signingKeyFor(secret: string, domain: string): Promise<SealingKey> {
  return derivedOnce(signingKeys, secret, domain, async () => {
    const tag = await domainTagOf(secret, domain);
    return { tag, key: await sealingKeyOf(secret, tag) };
  });
}

// Opening keys by secret, then tag (a number: no string is built per hit).
const openingKeys = new KeyCache<number, Uint8Array>();

/** The key for a tag, when a token with it has verified in this isolate. */
export function openingKey(secret: string, tag: number): Uint8Array | undefined {
  return openingKeys.get(secret, tag);
}

/** Keeps a tag's key, once a token has proved authentic with it. */
export function keepOpeningKey(secret: string, tag: number, key: Uint8Array): void {
  openingKeys.set(secret, tag, key);
}

// The domain key of signed tokens and of VERP tags, as a WebCrypto HMAC key.
const domainKeys = new KeyCache<string, Promise<CryptoKey>>();

/** HMAC-SHA256(secret, "tidings/tracking:" + name): the per-domain key of signed tokens (and of VERP tags). */
export async function domainKeyBytes(secret: string, name: string): Promise<Uint8Array> {
  return hmacBytes(secret, `tidings/tracking:${name}`);
}

/** The per-domain HMAC signing key (WebCrypto), derived as domainKeyBytes says; VERP tags use it. */
export function domainKey(secret: string, name: string): Promise<CryptoKey> {
  return derivedOnce(domainKeys, secret, name, () => domainKeyBytes(secret, name).then(importHmacKey));
}
