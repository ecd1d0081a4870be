// Suppression records as clients send them, one parser per kind whatever the carrier: form fields,
// a JSON array item or a CSV row all arrive as a field map. Bad input throws a 400 ApiError.
import type { Context } from "hono";
import { isAddress } from "../domain/addresses";
import { formatRfc1123, parseMailgunDate } from "../domain/dates";
import type { SuppressionKind, SuppressionRow } from "../domain/suppression-list";
import { ALL_TAGS, type AllowlistRecord, type BounceRecord, type ComplaintRecord, type DomainState, type UnsubscribeRecord } from "../durable-objects/domain-state";
import { badRequest } from "./errors";
import { field, readFields, type Fields } from "./fields";
import { parseJsonBodyText } from "./json-body";

/** Mailgun's batch limit for one JSON array (and our DO write chunk). */
export const MAX_BATCH = 1000;
const DEFAULT_BOUNCE_CODE = 550;
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
      map.set(name, values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))));
    }
    return map;
  });
  return Array.isArray(body) ? { many: fields } : { one: fields[0]! };
}

function parseAddress(fields: Fields): string {
  const value = field(fields, "address")?.trim();
  if (!value) throw badRequest("Missing mandatory parameter: address");
  if (!isAddress(value)) throw badRequest(`'${value}' is not a valid address`);
  return value.toLowerCase();
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
  if (valid.some((t) => t.length > 256)) throw badRequest("A tag must be at most 256 characters");
  return valid.length > 0 ? valid : [ALL_TAGS];
}

export function parseBounce(fields: Fields, now: number): BounceRecord {
  const address = parseAddress(fields);
  const codeText = field(fields, "code")?.trim();
  const code = codeText ? Number(codeText) : DEFAULT_BOUNCE_CODE;
  if (!Number.isInteger(code) || code < 0 || code > 999) throw badRequest(`'code' must be an SMTP code, got '${codeText}'`);
  const error = field(fields, "error") ?? "";
  if (error.length > 2000) throw badRequest("'error' must be at most 2000 characters");
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
  const reason = field(fields, "reason") ?? "";
  if (reason.length > 2000) throw badRequest("'reason' must be at most 2000 characters");
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

/** Writes up to MAX_BATCH parsed records of one kind to the domain's DomainState. */
export async function storeSuppressions(state: DurableObjectStub<DomainState>, kind: SuppressionKind, records: SuppressionRecord[]): Promise<void> {
  if (kind === "bounces") await state.addBounces(records as BounceRecord[]);
  else if (kind === "unsubscribes") await state.addUnsubscribes(records as UnsubscribeRecord[]);
  else if (kind === "complaints") await state.addComplaints(records as ComplaintRecord[]);
  else await state.addAllowlistEntries(records as AllowlistRecord[]);
}
