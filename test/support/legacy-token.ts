// Tokens in the older, signed-only format, made as the Worker made them before tokens were
// encrypted (WebCrypto HMAC-SHA256): links of that kind are still in sent mail, and the edge must
// honour them while their key version's secret is configured.
import type { TokenPayload } from "../../src/domain/token";

const encoder = new TextEncoder();
const KIND_CODES = { open: 1, click: 2, unsubscribe: 3, "tag-unsubscribe": 4 } as const;

async function hmac(key: Uint8Array | string, data: Uint8Array): Promise<Uint8Array> {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const imported = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, data));
}

/** The bytes signed in an older token: version, kind, issuedAt, four length-prefixed fields, the URL. */
export function legacyBody(payload: TokenPayload): Uint8Array {
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

/** An older token: the body, then the first 16 bytes of HMAC-SHA256(HMAC(secret, "tidings/tracking:" + domain), body). */
export async function signLegacyToken(payload: TokenPayload, secret: string): Promise<string> {
  const body = legacyBody(payload);
  const domainKey = await hmac(secret, encoder.encode(`tidings/tracking:${payload.domain}`));
  const mac = await hmac(domainKey, body);
  const token = new Uint8Array(body.length + 16);
  token.set(body);
  token.set(mac.subarray(0, 16), body.length);
  return token.toBase64({ alphabet: "base64url", omitPadding: true });
}
