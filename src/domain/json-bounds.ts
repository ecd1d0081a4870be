// JSON from outside (request bodies, form fields, headers) is bounded before it is parsed: its
// size in bytes first, then its nesting depth, found by scanning the text for brackets outside
// strings. JSON.parse itself copes with deep nesting, but what recurses over the value afterwards
// (JSON.stringify when it is stored, zod, our own walks) overflows the stack on a 100,000-level
// document; nothing we accept needs more than a few levels.
import { utf8ByteLength } from "./utf8";

/** Deepest nesting of arrays and objects accepted in any JSON input. Unit: levels. */
export const MAX_JSON_DEPTH = 32;

/** Whether `text` nests arrays and objects deeper than `maxDepth`; stops at the first level too deep. */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped, even a quote
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export type BoundedJson = { ok: true; value: unknown } | { ok: false; problem: "too-large" | "too-deep" | "invalid" };

/** Parses JSON text of at most `maxBytes` bytes (UTF-8) nested at most MAX_JSON_DEPTH levels. */
export function parseBoundedJson(text: string, maxBytes: number): BoundedJson {
  // A string's UTF-8 length is at least its length in UTF-16 units: most oversized texts stop here.
  if (text.length > maxBytes || utf8ByteLength(text) > maxBytes) return { ok: false, problem: "too-large" };
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) return { ok: false, problem: "too-deep" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: "invalid" };
  }
}

/** The usual wording of a refusal, for a 400 that names what was refused. */
export function describeJsonProblem(what: string, problem: "too-large" | "too-deep" | "invalid", maxBytes: number): string {
  if (problem === "too-large") return `${what} must be at most ${maxBytes} bytes of JSON`;
  if (problem === "too-deep") return `${what} is nested too deep: at most ${MAX_JSON_DEPTH} levels of arrays and objects`;
  return `${what} is not valid JSON`;
}
