// Events API paging cursors. A cursor carries the whole query, so GET /v3/{d}/events/{token} needs
// nothing else; it ends a paging URL, so it is base64url (no "/"). Keyset, never OFFSET.

import { decodeJsonBase64Url, encodeJsonBase64Url } from "./base64url";
import * as z from "./zod";

export const eventQuerySchema = z.object({
  domain: z.string(),
  /** The Logs API's query over several domains (`domain` then names the first, for databaseFor). */
  domains: z.optional(z.array(z.string()).check(z.maxLength(1000))),
  /** Range bounds in microseconds, inclusive; null means open. */
  lo: z.nullable(z.number()),
  hi: z.nullable(z.number()),
  ascending: z.boolean(),
  limit: z.int().check(z.gte(1), z.lte(300)),
  /** Filter expressions by field; several expressions of one field are ANDed. */
  filters: z.record(z.string(), z.array(z.string())),
});
export type EventQuery = z.infer<typeof eventQuerySchema>;

const cursorSchema = z.object({
  q: eventQuerySchema,
  /** first: the range's first page; next/previous: after/before the anchor; last: the final page. */
  m: z.enum(["first", "next", "previous", "last"]),
  /** Anchor [timestamp in µs, event id], absent for first and last. */
  a: z.optional(z.tuple([z.number(), z.string()])),
});
export type Cursor = z.infer<typeof cursorSchema>;

export function encodeCursor(cursor: Cursor): string {
  return encodeJsonBase64Url(cursor);
}

export function decodeCursor(token: string): Cursor | null {
  const parsed = cursorSchema.safeParse(decodeJsonBase64Url(token));
  if (!parsed.success) return null;
  const { m, a } = parsed.data;
  if ((m === "next" || m === "previous") !== (a !== undefined)) return null;
  return parsed.data;
}
