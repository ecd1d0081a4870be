// HMAC-SHA256 (RFC 2104, FIPS 180-4) in plain JavaScript, for one job: checking tracking tokens on
// the hot path. WebCrypto stays the source of every key and every signature we hand out; this only
// recomputes a MAC to compare. Why not crypto.subtle.sign there: it is async, allocates a fresh
// ArrayBuffer per call and re-derives the HMAC pads each time (5 compression rounds for a token).
// Here the pads of a domain's key are hashed once (a key holds the two midstates), so a token of
// up to 55 bytes of body costs 2 compressions and one of up to 119 bytes costs 3, with no
// allocation and no await. Measured in bench/hot-path-parts.bench.ts; checked against WebCrypto
// and the RFC 4231 vectors in test/unit/hmac-sha256.test.ts.

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const INITIAL_STATE = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const BLOCK_BYTES = 64;

// Work areas, reused by every call: each call runs to completion without yielding, so no two
// calls ever share them at once.
const schedule = new Int32Array(64);
const block = new Uint8Array(BLOCK_BYTES);
const state = new Int32Array(8);
const innerHash = new Uint8Array(32);

/** One SHA-256 compression of data[offset .. offset+64) into s. */
function compress(s: Int32Array, data: Uint8Array, offset: number): void {
  const w = schedule;
  for (let i = 0, o = offset; i < 16; i++, o += 4) w[i] = (data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!;
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!, e = s[4]!, f = s[5]!, g = s[6]!, h = s[7]!;
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0;
  s[5] = (s[5]! + f) | 0;
  s[6] = (s[6]! + g) | 0;
  s[7] = (s[7]! + h) | 0;
}

/** Hashes the rest of a message into s: data[0..length) after `before` bytes already hashed. */
function finish(s: Int32Array, data: Uint8Array, length: number, before: number): void {
  let at = 0;
  for (; at + BLOCK_BYTES <= length; at += BLOCK_BYTES) compress(s, data, at);
  const rest = length - at;
  block.fill(0);
  for (let i = 0; i < rest; i++) block[i] = data[at + i]!;
  block[rest] = 0x80;
  if (rest >= 56) {
    compress(s, block, 0);
    block.fill(0);
  }
  const bits = (before + length) * 8; // below 2^53: exact as a double
  const high = Math.floor(bits / 0x1_0000_0000);
  block[56] = high >>> 24;
  block[57] = high >>> 16;
  block[58] = high >>> 8;
  block[59] = high;
  block[60] = bits >>> 24;
  block[61] = bits >>> 16;
  block[62] = bits >>> 8;
  block[63] = bits;
  compress(s, block, 0);
}

function wordsToBytes(words: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const v = words[i]!;
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = v >>> 16;
    out[i * 4 + 2] = v >>> 8;
    out[i * 4 + 3] = v;
  }
}

/** SHA-256 of data (used for keys longer than a block, as RFC 2104 says). */
export function sha256(data: Uint8Array): Uint8Array {
  const s = INITIAL_STATE.slice();
  finish(s, data, data.length, 0);
  const out = new Uint8Array(32);
  wordsToBytes(s, out);
  return out;
}

/** A key with its two pads already hashed: the inner and outer SHA-256 midstates. */
export interface HmacSha256Key {
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

export function hmacSha256Key(raw: Uint8Array): HmacSha256Key {
  const key = raw.length > BLOCK_BYTES ? sha256(raw) : raw;
  const pad = (value: number) => {
    const s = INITIAL_STATE.slice();
    const bytes = new Uint8Array(BLOCK_BYTES).fill(value);
    for (let i = 0; i < key.length; i++) bytes[i]! ^= key[i]!;
    compress(s, bytes, 0);
    return s;
  };
  return { inner: pad(0x36), outer: pad(0x5c) };
}

/**
 * HMAC-SHA256 of data[0..length) as eight big-endian 32-bit words. The array returned is a work
 * area that the next call overwrites: read it before calling again.
 */
export function hmacSha256Words(key: HmacSha256Key, data: Uint8Array, length = data.length): Int32Array {
  state.set(key.inner);
  finish(state, data, length, BLOCK_BYTES);
  wordsToBytes(state, innerHash);
  state.set(key.outer);
  finish(state, innerHash, 32, BLOCK_BYTES);
  return state;
}

/** HMAC-SHA256 of data as 32 bytes. */
export function hmacSha256(key: HmacSha256Key, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  wordsToBytes(hmacSha256Words(key, data), out);
  return out;
}
