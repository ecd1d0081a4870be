// VERP return paths: every delivery's envelope sender names the message and the recipient, so a
// bounce (DSN) or complaint (ARF) that comes back to it says which delivery it is about. The
// local part is signed, so nobody can mail us a fake bounce that suppresses someone else.
import { decodeBase64Url, encodeBase64Url } from "./base64url";
import { domainKey } from "./token";

/** The envelope sender's local part is `bounce+<payload>`; RFC 5321 allows 64 octets, most MTAs far more. */
export const VERP_PREFIX = "bounce+";
const TAG_BYTES = 10; // 80-bit HMAC tag: enough to stop forged bounces, short enough for the address

export interface VerpTarget {
  domain: string;
  messageId: string;
  recipient: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

async function tag(secret: string, domain: string, payload: Uint8Array): Promise<Uint8Array> {
  const key = await domainKey(secret, `verp:${domain}`);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, payload)).subarray(0, TAG_BYTES);
}

/** `bounce+<base64url(messageId \\0 recipient | tag)>@<domain>` */
export async function verpAddress(target: VerpTarget, secret: string): Promise<string> {
  const payload = encoder.encode(`${target.messageId}\u0000${target.recipient}`);
  const mac = await tag(secret, target.domain, payload);
  const bytes = new Uint8Array(payload.length + TAG_BYTES);
  bytes.set(payload);
  bytes.set(mac, payload.length);
  return `${VERP_PREFIX}${encodeBase64Url(bytes)}@${target.domain}`;
}

/** The delivery a VERP address names, or null when it is not one of ours or its tag is wrong. */
export async function parseVerpAddress(address: string, secret: string): Promise<VerpTarget | null> {
  const at = address.lastIndexOf("@");
  if (at < 0) return null;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (!local.toLowerCase().startsWith(VERP_PREFIX)) return null;
  const bytes = decodeBase64Url(local.slice(VERP_PREFIX.length));
  if (!bytes || bytes.length <= TAG_BYTES) return null;
  const payload = bytes.subarray(0, bytes.length - TAG_BYTES);
  const expected = await tag(secret, domain, payload);
  let diff = 0;
  for (let i = 0; i < TAG_BYTES; i++) diff |= expected[i]! ^ bytes[payload.length + i]!;
  if (diff !== 0) return null;
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return null;
  }
  const nul = text.indexOf("\u0000");
  if (nul <= 0 || nul === text.length - 1) return null;
  return { domain, messageId: text.slice(0, nul), recipient: text.slice(nul + 1) };
}
