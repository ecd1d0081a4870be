// Request bodies as Mailgun clients send them: multipart/form-data (mailgun.js), urlencoded, or
// JSON. readForm keeps files; readFields gives a map from field name to its string values.
import type { Context } from "hono";
import { parseYesNo } from "../domain/tracking-settings";
import { badRequest } from "./errors";
import { parseJsonBodyText } from "./json-body";

export type Fields = Map<string, string[]>;
export type FormValue = string | File;

/**
 * The largest body of the small forms read by readFields (domains, tracking, webhooks, tags,
 * suppressions one at a time, resend): two 10,000-character footers percent-encoded fit. Unit:
 * bytes. The Messages API and CSV imports read their own bodies with their own limits.
 */
export const MAX_SMALL_FORM_BYTES = 256 * 1024;
/** The most fields a small form may carry: parsing 100,000 empty fields cost over 100 ms of CPU. */
export const MAX_SMALL_FORM_FIELDS = 1000;

/** The body's bytes, refused (400) as soon as they pass `maxBytes`, before or while reading. */
async function readBoundedBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => badRequest(`The body must be at most ${maxBytes} bytes`);
  if (Number(c.req.header("content-length") ?? 0) > maxBytes) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) bytes.set(chunk, (offset += chunk.byteLength) - chunk.byteLength);
  return bytes;
}

/** Refuses a small form of more than MAX_SMALL_FORM_FIELDS fields, counted before it is parsed. */
function checkFieldCount(text: string): void {
  let fields = 1;
  for (let i = text.indexOf("&"); i >= 0 && fields <= MAX_SMALL_FORM_FIELDS; i = text.indexOf("&", i + 1)) fields++;
  if (fields > MAX_SMALL_FORM_FIELDS) throw badRequest(`A form may have at most ${MAX_SMALL_FORM_FIELDS} fields`);
}

/** Form entries in order, files included; a JSON body is not a form (see readFields). */
export async function readForm(c: Context): Promise<Array<[string, FormValue]>> {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (type.startsWith("multipart/form-data")) {
    try {
      return [...(await c.req.raw.formData())] as Array<[string, FormValue]>;
    } catch {
      throw badRequest("Could not parse the multipart body");
    }
  }
  return [...new URLSearchParams(await readText(c))];
}

/** Decodes the bytes ourselves: Request.text() warns on non-text content types. */
async function readText(c: Context): Promise<string> {
  return new TextDecoder().decode(await c.req.arrayBuffer());
}

export async function readFields(c: Context): Promise<Fields> {
  const fields: Fields = new Map();
  const add = (name: string, value: string) => {
    const values = fields.get(name);
    if (values) values.push(value);
    else fields.set(name, [value]);
  };
  const rawType = c.req.header("content-type") ?? "";
  const type = rawType.toLowerCase();
  const bytes = await readBoundedBytes(c, MAX_SMALL_FORM_BYTES);
  if (type.startsWith("application/json")) {
    const body = parseJsonBodyText(new TextDecoder().decode(bytes));
    if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("The body must be a JSON object");
    for (const [name, value] of Object.entries(body)) {
      for (const v of Array.isArray(value) ? value : [value]) add(name, typeof v === "string" ? v : JSON.stringify(v));
    }
    return fields;
  }
  let entries: Iterable<[string, FormValue]>;
  if (type.startsWith("multipart/form-data")) {
    try {
      entries = (await new Response(bytes, { headers: { "content-type": rawType } }).formData()) as unknown as Iterable<[string, FormValue]>;
    } catch {
      throw badRequest("Could not parse the multipart body");
    }
  } else {
    const text = new TextDecoder().decode(bytes);
    checkFieldCount(text);
    entries = new URLSearchParams(text);
  }
  let count = 0;
  for (const [name, value] of entries) {
    if (++count > MAX_SMALL_FORM_FIELDS) throw badRequest(`A form may have at most ${MAX_SMALL_FORM_FIELDS} fields`);
    if (typeof value === "string") add(name, value);
  }
  return fields;
}

export function field(fields: Fields, name: string): string | undefined {
  return fields.get(name)?.[0];
}

/** A yes/no/true/false field, undefined when absent; anything else is a 400 naming the field. */
export function yesNoField(fields: Fields, name: string): boolean | undefined {
  const value = field(fields, name);
  if (value === undefined) return undefined;
  const parsed = parseYesNo(value);
  if (parsed === null) throw badRequest(`${name} must be yes, no, true or false`);
  return parsed;
}
