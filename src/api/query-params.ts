// Query-string parameters of the API routes, read one way everywhere (src/domain/integers.ts).
import type { Context } from "hono";
import { type IntRange, readIntParam } from "../domain/integers";
import { badRequest } from "./errors";

/** An integer query parameter: `fallback` when absent or empty, else a value in range or a 400. */
export function intQuery(c: Context, name: string, range: IntRange & { fallback: number }): number {
  const value = readIntParam(c.req.query(name), name, range);
  if (typeof value === "string") throw badRequest(value);
  return value;
}
