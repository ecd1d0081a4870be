// Keys of tracking tokens, derived from the tracking secret of a key version and held by WebCrypto
// (native code: no key or secret goes through JavaScript crypto). Each is derived once per isolate
// and kept; the edge keeps a key only once a token has proved authentic with it, so forged tokens
// naming made-up domains evict nothing. Layout and rules in docs/storage.md, "Tokens".

import { uint32At } from "./token-format";

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
  return uint32At(mac, 0);
}

const HKDF_SALT = encoder.encode("tidings/tracking-token");
const hkdfRoots = new Map<string, Promise<CryptoKey>>();

function hkdfRoot(secret: string): Promise<CryptoKey> {
  let root = hkdfRoots.get(secret);
  if (!root) {
    if (hkdfRoots.size > 16) hkdfRoots.clear();
    root = crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
    hkdfRoots.set(secret, root);
    root.catch(() => hkdfRoots.delete(secret));
  }
  return root;
}

/** Bytes of the key epoch a sealed token carries in the clear: months since January 2020, UTC. */
export const KEY_EPOCH_BYTES = 2;
const EPOCH_ORIGIN_YEAR = 2020;
const LAST_EPOCH = 0xffff;

/**
 * The key epoch of a token issued at `issuedAt` (unix seconds): whole months since January 2020,
 * UTC. Sealed keys change every month, so that no key seals more than a month of a domain's links
 * (AES-GCM with random 96-bit nonces stays far below 2^32 messages per key; docs/storage.md).
 */
export function keyEpochOf(issuedAt: number): number {
  const at = new Date(issuedAt * 1000);
  const months = (at.getUTCFullYear() - EPOCH_ORIGIN_YEAR) * 12 + at.getUTCMonth();
  return Math.min(LAST_EPOCH, Math.max(0, months));
}

/** The HKDF info of a sealing key: "tidings/token-key:", the 4 tag bytes, then the 2 epoch bytes. */
export function sealingKeyInfo(tag: number, epoch: number): Uint8Array {
  const label = encoder.encode("tidings/token-key:");
  const info = new Uint8Array(label.length + DOMAIN_TAG_BYTES + KEY_EPOCH_BYTES);
  info.set(label);
  const view = new DataView(info.buffer);
  view.setUint32(label.length, tag);
  view.setUint16(label.length + DOMAIN_TAG_BYTES, epoch);
  return info;
}

/**
 * The AES-256-GCM key of the domain with this tag, for one key epoch:
 * HKDF-SHA256(secret, salt "tidings/tracking-token", info sealingKeyInfo(tag, epoch)), 32 bytes,
 * derived and held by WebCrypto (never extractable).
 */
export async function sealingKeyOf(secret: string, tag: number, epoch: number): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: sealingKeyInfo(tag, epoch) },
    await hkdfRoot(secret),
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** What signing needs for a domain in an epoch: its tag and key. */
export interface SealingKey {
  tag: number;
  key: CryptoKey;
}

const domainTags = new KeyCache<string, Promise<number>>();
const signingKeys = new KeyCache<string, Promise<SealingKey>>();

/** The tag and key tokens of `domain` issued in `epoch` are sealed with (derived once per isolate). */
export function signingKeyFor(secret: string, domain: string, epoch: number): Promise<SealingKey> {
  return derivedOnce(signingKeys, secret, `${epoch}/${domain}`, async () => {
    const tag = await derivedOnce(domainTags, secret, domain, () => domainTagOf(secret, domain));
    return { tag, key: await sealingKeyOf(secret, tag, epoch) };
  });
}

/** One number for a (tag, epoch) pair: 48 bits, exact in a double, so no string is built per hit. */
const tagEpoch = (tag: number, epoch: number) => tag * 0x10000 + epoch;

// Opening keys by secret, then (tag, epoch).
const openingKeys = new KeyCache<number, CryptoKey>();

/** The key for a tag and epoch, when a token with them has verified in this isolate. */
export function openingKey(secret: string, tag: number, epoch: number): CryptoKey | undefined {
  return openingKeys.get(secret, tagEpoch(tag, epoch));
}

/** Keeps a (tag, epoch) key, once a token has proved authentic with it. */
export function keepOpeningKey(secret: string, tag: number, epoch: number, key: CryptoKey): void {
  openingKeys.set(secret, tagEpoch(tag, epoch), key);
}

// The domain key of signed tokens and of VERP tags, as a WebCrypto HMAC key.
const domainKeys = new KeyCache<string, Promise<CryptoKey>>();

/** HMAC-SHA256(secret, "tidings/tracking:" + name): the per-domain key of signed tokens (and of VERP tags). */
export async function domainKeyBytes(secret: string, name: string): Promise<Uint8Array> {
  return hmacBytes(secret, `tidings/tracking:${name}`);
}

/** The per-domain HMAC key (WebCrypto), derived as domainKeyBytes says, once per isolate; signing and VERP tags use it. */
export function domainKey(secret: string, name: string): Promise<CryptoKey> {
  return derivedOnce(domainKeys, secret, name, () => domainKeyBytes(secret, name).then(importHmacKey));
}

/** The same key derived afresh and not kept: the edge keeps a domain's key only once a token verified with it. */
export async function freshDomainKey(secret: string, name: string): Promise<CryptoKey> {
  return importHmacKey(await domainKeyBytes(secret, name));
}

// Verified domains' keys of signed tokens, by secret then domain.
const verifiedDomainKeys = new KeyCache<string, CryptoKey>();

export function verifiedDomainKey(secret: string, domain: string): CryptoKey | undefined {
  return verifiedDomainKeys.get(secret, domain);
}

export function keepVerifiedDomainKey(secret: string, domain: string, key: CryptoKey): void {
  verifiedDomainKeys.set(secret, domain, key);
}
