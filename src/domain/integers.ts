// Whole numbers read from text (query strings, form fields): decimal digits only, within the
// caller's bounds, so "1e20", "0x10", "2.0" or 2^63-1 never reach a query or a computation. Pure.

/** More digits than this cannot all be honoured by a double; every bound in the API is far below. */
const MAX_DIGITS = 15;

/**
 * Rows an offset-paged list may skip (GET /v4/domains `skip`, the /v1/analytics `pagination.skip`):
 * past the end of any real list, and a number SQLite's OFFSET and Array.slice take as it is.
 */
export const MAX_SKIP_ROWS = 1_000_000;

export interface IntRange {
  min: number;
  max: number;
}

/** The integer `text` spells in decimal digits when it lies within [min, max]; otherwise null. */
export function parseIntInRange(text: string, { min, max }: IntRange): number | null {
  if (text.length === 0 || text.length > MAX_DIGITS || !/^\d+$/.test(text)) return null;
  const value = Number(text);
  return value >= min && value <= max ? value : null;
}

export const intRangeMessage = (name: string, { min, max }: IntRange) => `'${name}' must be an integer from ${min} to ${max}`;

/**
 * An optional integer parameter: `fallback` when absent or empty, the value when it is in range,
 * else the text of the 400 that names the parameter and its bounds.
 */
export function readIntParam(text: string | null | undefined, name: string, range: IntRange & { fallback: number }): number | string {
  if (text === null || text === undefined || text === "") return range.fallback;
  return parseIntInRange(text, range) ?? intRangeMessage(name, range);
}
