// Mailgun dates: RFC 2822 strings (or epoch seconds) in, RFC 2822 / RFC 1123 out.

/** Year 5138: later "epoch seconds" are typos (milliseconds, say), not dates. */
export const MAX_EPOCH_SECONDS = 1e11;

/** Parses an RFC 2822 date or epoch seconds (integer or float) to microseconds; null if neither. */
export function parseMailgunDate(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return Number.isFinite(seconds) && seconds < MAX_EPOCH_SECONDS ? Math.round(seconds * 1e6) : null;
  }
  // RFC 2822 needs at least "DD Mon YYYY"; refuse bare words that Date.parse would still accept.
  if (!/\d{1,2}\s+[A-Za-z]{3}\s+\d{4}/.test(trimmed) && !/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return null;
  const millis = Date.parse(trimmed);
  return Number.isNaN(millis) ? null : millis * 1000;
}

/** RFC 1123 form Mailgun uses for created_at: "Thu, 13 Oct 2011 18:02:00 GMT". */
export function formatRfc1123(millis: number): string {
  return new Date(millis).toUTCString();
}
