// VERP return paths: every delivery's envelope sender names the delivery, so a bounce (DSN) or
// complaint (ARF) that comes back to it says which delivery it is about. The local part is
// `bounce+<id><day><tag>`: the id is derived from the message id and recipient and stored with them
// when the message is accepted (src/db/return-paths.ts), in the event shard of that day, which
// `day` names so that a report is looked up in one day's shards, not in 30 days' (addresses made
// before the day was added, `bounce+<id><tag>`, still parse); the tag signs the id and the day, so
// a forged address is refused without a lookup and nobody can mail in a report that suppresses
// someone else.
// With BOUNCE_DOMAIN set the address is on that operator-owned domain instead of the sending
// domain, and its tag is keyed by it (docs/bounces.md). Layout in docs/storage.md, "VERP return path".
import { decodeBase64Url } from "./base64url";
import { domainKey } from "./token-keys";

export const VERP_PREFIX = "bounce+";
/** The id: 80 bits of HMAC, enough that two deliveries of a domain never share one. Unit: bytes. */
const ID_BYTES = 10;
/** The tag: 80-bit HMAC of the id, enough to stop forged bounces. Unit: bytes. */
const TAG_BYTES = 10;
/**
 * RFC 4648 base32 in lower case: some MTAs case-fold local parts, which base64 would not survive.
 * 10 bytes are 16 characters, so the local part is 7 + 16 + 3 + 16 = 42 octets whatever the message (39 without the day),
 * within the 64 of RFC 5321 4.5.3.1.1 (many MTAs refuse longer ones).
 */
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const ID_CHARS = (ID_BYTES * 8) / 5;
const TAG_CHARS = (TAG_BYTES * 8) / 5;
/** The acceptance day (days since the epoch, UTC) modulo 32^3 = 32,768 (about 90 years): three base32 characters. */
const DAY_CHARS = 3;
const DAY_SPAN = 32 ** DAY_CHARS;
const SHORT_PAYLOAD = new RegExp(`^[a-z2-7]{${ID_CHARS + TAG_CHARS}}$`);
const DAY_PAYLOAD = new RegExp(`^[a-z2-7]{${ID_CHARS + DAY_CHARS + TAG_CHARS}}$`);
const DAY_MS = 86_400_000;

export interface VerpTarget {
  domain: string;
  messageId: string;
  recipient: string;
  /** When the message was accepted (ms), from its stored return path; absent for a legacy address. */
  sentAt?: number;
}

/**
 * What a return path names: an id to look up (with the day its message was accepted, when the
 * address carries it), or (mail sent before ids) the delivery itself.
 */
export type ParsedVerp = { kind: "id"; domain: string; id: string; day?: number } | ({ kind: "legacy" } & VerpTarget);

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(buffer >> bits) & 31];
    }
  }
  return bits > 0 ? out + BASE32[(buffer << (5 - bits)) & 31] : out;
}

async function mac(secret: string, label: string, domain: string, text: string, bytes: number): Promise<Uint8Array> {
  const key = await domainKey(secret, `${label}:${domain}`);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text))).subarray(0, bytes);
}

/** The delivery's id: fixed by its message id and recipient (any case), so it can be made again anywhere. */
export async function returnPathId(target: VerpTarget, secret: string): Promise<string> {
  return base32(await mac(secret, "verp-id", target.domain.toLowerCase(), `${target.messageId}\u0000${target.recipient.toLowerCase()}`, ID_BYTES));
}

async function idTag(secret: string, domain: string, id: string): Promise<string> {
  return base32(await mac(secret, "verp-tag", domain, id, TAG_BYTES));
}

/** A hostname of at least two labels (RFC 1123), as BOUNCE_DOMAIN must be. */
const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The BOUNCE_DOMAIN setting, lower-cased; "" when empty. Throws on a value that is not a hostname, so a typo stops deliveries loudly instead of mailing out unusable return paths. */
export function bounceDomainOf(setting: string | undefined): string {
  const domain = (setting ?? "").trim().toLowerCase();
  if (domain !== "" && !HOSTNAME.test(domain)) throw new Error(`BOUNCE_DOMAIN is not a hostname: ${JSON.stringify(setting)}`);
  return domain;
}

/** A day as three base32 characters (modulo DAY_SPAN). */
function dayChars(day: number): string {
  const n = ((day % DAY_SPAN) + DAY_SPAN) % DAY_SPAN;
  return Array.from({ length: DAY_CHARS }, (_, i) => BASE32[(n >> (5 * (DAY_CHARS - 1 - i))) & 31]).join("");
}

/** The latest day not after tomorrow (of `now`) whose DAY_SPAN residue the characters spell. */
function dayOfChars(chars: string, now: number): number {
  let n = 0;
  for (const c of chars) n = n * 32 + BASE32.indexOf(c);
  const latest = Math.floor(now / DAY_MS) + 1;
  return latest - ((((latest - n) % DAY_SPAN) + DAY_SPAN) % DAY_SPAN);
}

/**
 * `bounce+<id><day><tag>@<domain>`: 42 octets of local part for any domain, message id and
 * recipient (39 without a day: `target.sentAt` absent). The id always belongs to the sending
 * domain; the day is the one `sentAt` falls on (UTC), where the return path is stored; the address
 * (and the key of its tag) is on `bounceDomain` when one is given, so that it verifies without
 * knowing the sending domain.
 */
export async function verpAddress(target: VerpTarget, secret: string, bounceDomain = ""): Promise<string> {
  const domain = bounceDomain || target.domain.toLowerCase();
  const id = await returnPathId(target, secret);
  const signed = target.sentAt === undefined ? id : `${id}${dayChars(Math.floor(target.sentAt / DAY_MS))}`;
  return `${VERP_PREFIX}${signed}${await idTag(secret, domain, signed)}@${domain}`;
}

/** Constant-time comparison of two equally long strings. */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** What a VERP address names, or null when it is not one of ours or its tag is wrong. `now` places a day (ms). */
export async function parseVerpAddress(address: string, secret: string, now = Date.now()): Promise<ParsedVerp | null> {
  const at = address.lastIndexOf("@");
  if (at < 0) return null;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (!local.toLowerCase().startsWith(VERP_PREFIX)) return null;
  const payload = local.slice(VERP_PREFIX.length);
  const short = payload.toLowerCase();
  if (SHORT_PAYLOAD.test(short)) {
    const id = short.slice(0, ID_CHARS);
    return sameText(short.slice(ID_CHARS), await idTag(secret, domain, id)) ? { kind: "id", domain, id } : null;
  }
  if (DAY_PAYLOAD.test(short)) {
    const signed = short.slice(0, ID_CHARS + DAY_CHARS);
    if (!sameText(short.slice(ID_CHARS + DAY_CHARS), await idTag(secret, domain, signed))) return null;
    return { kind: "id", domain, id: signed.slice(0, ID_CHARS), day: dayOfChars(signed.slice(ID_CHARS), now) };
  }
  const legacy = await parseLegacyPayload(payload, domain, secret);
  return legacy && { kind: "legacy", ...legacy };
}

/**
 * The self-contained form used before ids (mail still queued or bouncing from then):
 * base64url(`<message id> NUL <recipient>` + first 10 bytes of its HMAC under `verp:<domain>`).
 */
async function parseLegacyPayload(payload: string, domain: string, secret: string): Promise<VerpTarget | null> {
  const bytes = decodeBase64Url(payload);
  if (!bytes || bytes.length <= TAG_BYTES) return null;
  const signed = bytes.subarray(0, bytes.length - TAG_BYTES);
  const key = await domainKey(secret, `verp:${domain}`);
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, signed));
  let diff = 0;
  for (let i = 0; i < TAG_BYTES; i++) diff |= expected[i]! ^ bytes[signed.length + i]!;
  if (diff !== 0) return null;
  let text: string;
  try {
    text = decoder.decode(signed);
  } catch {
    return null;
  }
  const nul = text.indexOf("\u0000");
  if (nul <= 0 || nul === text.length - 1) return null;
  return { domain, messageId: text.slice(0, nul), recipient: text.slice(nul + 1) };
}

/** The return path rows of a message's deliveries, to store before they are queued. */
export async function returnPathsOf(
  secret: string,
  domain: string,
  messageId: string,
  recipients: string[],
): Promise<Array<{ id: string; messageId: string; recipient: string }>> {
  return Promise.all(recipients.map(async (recipient) => ({ id: await returnPathId({ domain, messageId, recipient }, secret), messageId, recipient })));
}
