// JSON request bodies of the /v1/analytics routes, read whatever the content type says: mailgun.js
// sends DELETE /v1/analytics/tags as JSON text under an urlencoded header (reference §0, gotcha 6).
import type { Context } from "hono";
import type { z } from "zod";
import { badRequest } from "./errors";

export async function readJsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  let body: unknown = {};
  if (text.trim() !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      throw badRequest("The body is not valid JSON");
    }
  }
  return schema.parse(body); // a ZodError is a 400 in handleApiError
}
