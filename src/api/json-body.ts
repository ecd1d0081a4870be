// JSON request bodies, bounded in size and depth before they are parsed (src/domain/json-bounds.ts).
// readJsonBody serves the /v1/analytics routes, read whatever the content type says: mailgun.js
// sends DELETE /v1/analytics/tags as JSON text under an urlencoded header (reference §0, gotcha 6).
// parseJsonBodyText serves every other JSON body (form-like bodies, suppression lists).
import type { Context } from "hono";
import { describeJsonProblem, parseBoundedJson } from "../domain/json-bounds";
import type * as z from "../domain/zod";
import { badRequest } from "./errors";

/** A JSON request body at most: 1,000 suppression records (Mailgun's batch) with room to spare. Unit: bytes. */
export const MAX_JSON_BODY_BYTES = 4 * 1024 * 1024;

/** The value of a JSON body's text; a 400 when it is too large, nested too deep or not JSON. */
export function parseJsonBodyText(text: string): unknown {
  const parsed = parseBoundedJson(text, MAX_JSON_BODY_BYTES);
  if (!parsed.ok)
    throw badRequest(parsed.problem === "invalid" ? "The body is not valid JSON" : describeJsonProblem("The body", parsed.problem, MAX_JSON_BODY_BYTES));
  return parsed.value;
}

export async function readJsonBody<T extends z.ZodMiniType>(c: Context, schema: T): Promise<z.infer<T>> {
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  const body = text.trim() === "" ? {} : parseJsonBodyText(text);
  return schema.parse(body); // a ZodError is a 400 in handleApiError
}
