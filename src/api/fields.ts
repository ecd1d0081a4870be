// Request bodies as Mailgun clients send them: multipart/form-data (mailgun.js), urlencoded, or
// JSON. readForm keeps files; readFields gives a map from field name to its string values.
import type { Context } from "hono";
import { parseYesNo } from "../domain/tracking-settings";
import { badRequest } from "./errors";
import { parseJsonBodyText } from "./json-body";

export type Fields = Map<string, string[]>;
export type FormValue = string | File;

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
  if ((c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
    const body = parseJsonBodyText(await readText(c));
    if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("The body must be a JSON object");
    for (const [name, value] of Object.entries(body)) {
      for (const v of Array.isArray(value) ? value : [value]) add(name, typeof v === "string" ? v : JSON.stringify(v));
    }
    return fields;
  }
  for (const [name, value] of await readForm(c)) if (typeof value === "string") add(name, value);
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
