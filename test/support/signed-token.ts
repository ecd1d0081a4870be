// Signed tokens stated independently of src/ (WebCrypto HMAC-SHA256 only), as docs/storage.md
// lays them out: the tests check that the Worker makes exactly these, byte for byte as before
// sealed tokens existed, so every link already in sent mail keeps working.
import type { TokenPayload } from "../../src/domain/token";

const encoder = new TextEncoder();
const KIND_CODES = { open: 1, click: 2, unsubscribe: 3, "tag-unsubscribe": 4 } as const;

async function hmac(key: Uint8Array | string, data: Uint8Array): Promise<Uint8Array> {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const imported = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, data));
}

/** The bytes signed in a signed token: version, kind, issuedAt, four length-prefixed fields, the URL. */
export function signedBody(payload: TokenPayload): Uint8Array {
  const parts: number[] = [payload.version, KIND_CODES[payload.kind] | (payload.https ? 0x80 : 0)];
  const t = payload.issuedAt >>> 0;
  parts.push((t >>> 24) & 255, (t >>> 16) & 255, (t >>> 8) & 255, t & 255);
  for (const field of [payload.webPrefix, payload.domain, payload.messageId, payload.recipient]) {
    const bytes = encoder.encode(field);
    parts.push(bytes.length, ...bytes);
  }
  parts.push(...encoder.encode(payload.kind === "click" ? payload.url : ""));
  return Uint8Array.from(parts);
}

/** A signed token: the body, then the first 16 bytes of HMAC-SHA256(HMAC(secret, "tidings/tracking:" + domain), body). */
export async function signReferenceToken(payload: TokenPayload, secret: string): Promise<string> {
  const body = signedBody(payload);
  const domainKey = await hmac(secret, encoder.encode(`tidings/tracking:${payload.domain}`));
  const mac = await hmac(domainKey, body);
  const token = new Uint8Array(body.length + 16);
  token.set(body);
  token.set(mac.subarray(0, 16), body.length);
  return token.toBase64({ alphabet: "base64url", omitPadding: true });
}
