// Request bodies as Mailgun clients send them: multipart/form-data (mailgun.js), urlencoded, or
// JSON. Whatever the content type says, the result is a map from field name to its values.
import type { Context } from "hono";
import { badRequest } from "./errors";

export type Fields = Map<string, string[]>;

export async function readFields(c: Context): Promise<Fields> {
  const fields: Fields = new Map();
  const add = (name: string, value: string) => fields.set(name, [...(fields.get(name) ?? []), value]);
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (type.startsWith("multipart/form-data")) {
    let form: FormData;
    try {
      form = await c.req.raw.formData();
    } catch {
      throw badRequest("Could not parse the multipart body");
    }
    for (const [name, value] of form) if (typeof value === "string") add(name, value);
    return fields;
  }
  // Decode the bytes ourselves: Request.text() warns on non-text content types.
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  if (type.startsWith("application/json")) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw badRequest("The body is not valid JSON");
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("The body must be a JSON object");
    for (const [name, value] of Object.entries(body)) {
      for (const v of Array.isArray(value) ? value : [value]) add(name, typeof v === "string" ? v : JSON.stringify(v));
    }
    return fields;
  }
  for (const [name, value] of new URLSearchParams(text)) add(name, value);
  return fields;
}

export function field(fields: Fields, name: string): string | undefined {
  return fields.get(name)?.[0];
}
