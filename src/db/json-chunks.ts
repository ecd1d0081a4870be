// Rows travel to D1 as one JSON parameter unpacked with json_each (D1 binds at most 100 values
// per statement); this splits rows into such parameters by their size in bytes, not their number.
// D1's limits (developers.cloudflare.com/d1/platform/limits): a string, BLOB or row is at most
// 2,000,000 bytes, and an SQL statement's text 100,000 bytes; bound values do not count towards
// the text, so only the parameter's own size matters here.
import { utf8ByteLength } from "../domain/utf8";

/** Largest JSON parameter we bind: under half of D1's 2 MB value limit. Unit: bytes of UTF-8. */
export const MAX_JSON_PARAM_BYTES = 900_000;

export function jsonChunks(rows: unknown[], maxBytes = MAX_JSON_PARAM_BYTES): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 2; // the brackets
  for (const row of rows) {
    const json = JSON.stringify(row);
    const size = utf8ByteLength(json) + 1; // and its comma
    // A row this large cannot be bound at all: the callers bound what goes into rows far below it.
    if (size + 2 > maxBytes) throw new RangeError(`a row of ${size} bytes of JSON exceeds the ${maxBytes}-byte parameter limit`);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      bytes = 2;
    }
    current.push(json);
    bytes += size;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}
