// The FTS5 query that narrows a "contains" filter (subject, from, to) to the events whose text holds
// every three-character piece of its terms: db/event-filters.ts runs it against the trigram
// indexes of migrations 0012 / events 0002. It only narrows: the LIKE beside it still decides, so
// the index may return more rows than match (it folds Unicode case, LIKE only ASCII) but never fewer.

/** Shortest term the trigram index can serve, in Unicode code points (shorter ones keep the LIKE walk). */
export const TRIGRAM_MIN_CODE_POINTS = 3;
/** Most trigrams one query ANDs together: more narrow little further and each is one doclist to read. */
export const MAX_MATCH_TRIGRAMS = 24;

/**
 * Whether the index can serve a term: three code points or more, and none that SQLite's text
 * handling and the tokenizer might read differently from LIKE (NUL ends a C string; a lone
 * surrogate is not UTF-8 and D1 replaces it).
 */
export function isIndexableTerm(term: string): boolean {
  if (/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(term)) return false;
  return [...term].length >= TRIGRAM_MIN_CODE_POINTS;
}

/** Every overlapping three-code-point piece of a term, in order. */
export function trigramsOf(term: string): string[] {
  const points = [...term];
  return Array.from({ length: Math.max(0, points.length - 2) }, (_, i) => points.slice(i, i + 3).join(""));
}

/** An FTS5 string literal: double quotes, an inner quote doubled (the trigram tokenizer reads it as one token). */
const quoted = (trigram: string) => `"${trigram.replaceAll('"', '""')}"`;

/**
 * The FTS5 MATCH expression requiring every term (each at least TRIGRAM_MIN_CODE_POINTS long):
 * their distinct trigrams ANDed, at most MAX_MATCH_TRIGRAMS of them, taken evenly along each term
 * (its first and last always) so that a long phrase still narrows by all its parts. Null without
 * an indexable term. Case is left to the tokenizer, which folds it.
 */
export function trigramMatch(terms: string[]): string | null {
  const perTerm = terms.filter(isIndexableTerm).map((term) => trigramsOf(term));
  if (perTerm.length === 0) return null;
  const budget = Math.max(1, Math.floor(MAX_MATCH_TRIGRAMS / perTerm.length));
  const chosen = new Map<string, string>();
  for (const trigrams of perTerm) {
    const take = Math.min(budget, trigrams.length);
    for (let k = 0; k < take; k++) {
      // Evenly spaced indexes from 0 to the last, so the two ends are always in.
      const trigram = trigrams[take === 1 ? 0 : Math.round((k * (trigrams.length - 1)) / (take - 1))]!;
      if (!chosen.has(trigram.toLowerCase())) chosen.set(trigram.toLowerCase(), trigram);
    }
  }
  return [...chosen.values()].slice(0, MAX_MATCH_TRIGRAMS).map(quoted).join(" AND ");
}
