// Suppression records as clients send them, one parser per kind whatever the carrier: form fields,
// a JSON array item or a CSV row all arrive as a field map. Bad input throws a 400 ApiError.
import type { Context } from "hono";
import { isAddress } from "../domain/addresses";
import { formatRfc1123, parseMailgunDate } from "../domain/dates";
import { parseIntInRange } from "../domain/integers";
import { MAX_ADDRESS_BYTES, MAX_NOTE_BYTES, MAX_TAG_BYTES, MAX_TAGS_PER_UNSUBSCRIBE } from "../domain/suppression-limits";
import type { SuppressionKind, SuppressionRow } from "../domain/suppression-list";
import { fitsUtf8Bytes } from "../domain/utf8";
import {
  ALL_TAGS,
  type AllowlistRecord,
  type BounceRecord,
  type ComplaintRecord,
  type DomainState,
  type UnsubscribeRecord,
} from "../durable-objects/domain-state";
import { acceptedByState, badRequest } from "./errors";
import { type Fields, field, readFields } from "./fields";
import { parseJsonBodyText } from "./json-body";

const DEFAULT_BOUNCE_CODE = 550;
/** What a bounce's `code` may be: a three-digit SMTP reply code (0 where none was given). */
const SMTP_CODES = { min: 0, max: 999 };
const DOMAIN_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

export type SuppressionRecord = BounceRecord | UnsubscribeRecord | ComplaintRecord | AllowlistRecord;

/** The body of an add: a JSON array (add many) or one record's fields. */
export type AddBody = { many: Fields[] } | { one: Fields };

export async function readAddBody(c: Context): Promise<AddBody> {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (!type.startsWith("application/json")) return { one: await readFields(c) };
  const body = parseJsonBodyText(new TextDecoder().decode(await c.req.arrayBuffer()));
  const items = Array.isArray(body) ? body : [body];
  if (items.some((item) => !item || typeof item !== "object" || Array.isArray(item))) throw badRequest("Each record must be a JSON object");
  const fields = items.map((item: object) => {
    const map: Fields = new Map();
    for (const [name, value] of Object.entries(item)) {
      const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== null && v !== undefined);
      map.set(
        name,
        values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))),
      );
    }
    return map;
  });
  return Array.isArray(body) ? { many: fields } : { one: fields[0]! };
}

/** An address (or allowlist value) named in a path or query: trimmed, lower-cased, within the lists' byte limit. */
export function addressKey(text: string, name = "address"): string {
  const key = text.trim().toLowerCase();
  if (!fitsUtf8Bytes(key, MAX_ADDRESS_BYTES)) throw badRequest(`'${name}' must be at most ${MAX_ADDRESS_BYTES} bytes`);
  return key;
}

/** A tag named by a request, within the byte limit the Durable Object holds tags to. */
export function checkTag(tag: string): string {
  if (!fitsUtf8Bytes(tag, MAX_TAG_BYTES)) throw badRequest(`A tag must be at most ${MAX_TAG_BYTES} bytes`);
  return tag;
}

function checkNote(name: string, text: string): string {
  if (!fitsUtf8Bytes(text, MAX_NOTE_BYTES)) throw badRequest(`'${name}' must be at most ${MAX_NOTE_BYTES} bytes`);
  return text;
}

function parseAddress(fields: Fields): string {
  const value = field(fields, "address")?.trim();
  if (!value) throw badRequest("Missing mandatory parameter: address");
  const key = addressKey(value); // the byte limit first: no pattern runs over a huge value
  if (!isAddress(value)) throw badRequest(`'${value}' is not a valid address`);
  return key;
}

/** RFC 2822 date (or epoch seconds) to unix milliseconds; now when absent. */
function parseCreatedAt(fields: Fields, now: number): number {
  const text = field(fields, "created_at");
  if (text === undefined || text.trim() === "") return now;
  const micros = parseMailgunDate(text);
  if (micros === null || micros < 0) throw badRequest(`'created_at' must be an RFC 2822 date, got '${text}'`);
  return Math.floor(micros / 1000);
}

/** `tag` (mailgun.js, single) and `tags` (repeated, or a JSON array), "*" when neither. */
function parseTags(fields: Fields): string[] {
  const tags: string[] = [];
  for (const value of [...(fields.get("tag") ?? []), ...(fields.get("tags") ?? [])]) {
    const text = value.trim();
    if (text.startsWith("[")) {
      let list: unknown;
      try {
        list = JSON.parse(text);
      } catch {
        throw badRequest("'tags' must be a JSON array of strings");
      }
      if (!Array.isArray(list) || list.some((t) => typeof t !== "string")) throw badRequest("'tags' must be a JSON array of strings");
      tags.push(...(list as string[]).map((t) => t.trim()));
    } else tags.push(text);
  }
  const valid = [...new Set(tags.filter((t) => t !== ""))];
  if (valid.length > MAX_TAGS_PER_UNSUBSCRIBE) throw badRequest(`At most ${MAX_TAGS_PER_UNSUBSCRIBE} tags per unsubscribe`);
  valid.forEach(checkTag);
  return valid.length > 0 ? valid : [ALL_TAGS];
}

export function parseBounce(fields: Fields, now: number): BounceRecord {
  const address = parseAddress(fields);
  const codeText = field(fields, "code")?.trim();
  const code = codeText ? parseIntInRange(codeText, SMTP_CODES) : DEFAULT_BOUNCE_CODE;
  if (code === null) throw badRequest(`'code' must be an SMTP code, got '${codeText}'`);
  const error = checkNote("error", field(fields, "error") ?? "");
  return { address, code, error, createdAt: parseCreatedAt(fields, now) };
}

export function parseUnsubscribe(fields: Fields, now: number): UnsubscribeRecord {
  return { address: parseAddress(fields), tags: parseTags(fields), createdAt: parseCreatedAt(fields, now) };
}

export function parseComplaint(fields: Fields, now: number): ComplaintRecord {
  return { address: parseAddress(fields), createdAt: parseCreatedAt(fields, now) };
}

/** `address` or `domain`, one per record; an address wins when both are given. */
export function parseAllowlistEntry(fields: Fields, now: number): AllowlistRecord {
  const reason = checkNote("reason", field(fields, "reason") ?? "");
  if (field(fields, "address")?.trim()) return { type: "address", value: parseAddress(fields), reason, createdAt: now };
  const domain = field(fields, "domain")?.trim().toLowerCase().replace(/\.$/, "");
  if (!domain) throw badRequest("Missing mandatory parameter: address/domain");
  if (!DOMAIN_NAME.test(domain)) throw badRequest(`'${domain}' is not a valid domain name`);
  return { type: "domain", value: domain, reason, createdAt: now };
}

export const RECORD_PARSERS: Record<SuppressionKind, (fields: Fields, now: number) => SuppressionRecord> = {
  bounces: parseBounce,
  unsubscribes: parseUnsubscribe,
  complaints: parseComplaint,
  whitelists: parseAllowlistEntry,
};

/** A stored record in Mailgun's item shape (`code` a string, the allowlist's camelCase `createdAt`). */
export function suppressionJson(kind: SuppressionKind, row: SuppressionRow): Record<string, unknown> {
  const createdAt = formatRfc1123(row.createdAt);
  switch (kind) {
    case "bounces":
      return { address: row.key, code: String(row.code), error: row.error, created_at: createdAt };
    case "unsubscribes":
      return { address: row.key, tags: row.tags, created_at: createdAt };
    case "complaints":
      return { address: row.key, created_at: createdAt };
    case "whitelists":
      return { type: row.type, value: row.key, reason: row.reason, createdAt };
  }
}

/** Writes up to MAX_SUPPRESSION_BATCH parsed records of one kind to the domain's DomainState. */
export async function storeSuppressions(state: DurableObjectStub<DomainState>, kind: SuppressionKind, records: SuppressionRecord[]): Promise<void> {
  if (kind === "bounces") acceptedByState(await state.addBounces(records as BounceRecord[]));
  else if (kind === "unsubscribes") acceptedByState(await state.addUnsubscribes(records as UnsubscribeRecord[]));
  else if (kind === "complaints") acceptedByState(await state.addComplaints(records as ComplaintRecord[]));
  else acceptedByState(await state.addAllowlistEntries(records as AllowlistRecord[]));
}
