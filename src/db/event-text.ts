// A page of events read from a text index (events_text_*, migrations/0012) instead of the domain's
// time index: for a store whose filters name a sparse subject/from/to term, the page then costs
// what the term matches in the database (at most TEXT_INDEX_MAX_MATCHES rows), not what the domain
// holds. A dense term is left to the time walk, which fills a page after a few rows.
import { type EventsLayout, type SqlFragment, TEXT_INDEX_MAX_MATCHES, type TextMatch } from "./event-filters";

/**
 * The filters' text match with the fewest rows in this database, with how many it has, when that is
 * at most TEXT_INDEX_MAX_MATCHES; null when every one is denser. Counting stops past the bound, so
 * this reads at most that many index entries per match, all in one round trip. A count of 0 means no
 * event of the database can match (the index finds every row LIKE would, and more).
 */
export async function sparsestTextMatch(db: D1Database, matches: TextMatch[]): Promise<{ text: TextMatch; matches: number } | null> {
  if (matches.length === 0) return null;
  const counted = await db.batch<{ n: number }>(
    matches.map(({ table, match }) =>
      db.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM ${table} WHERE ${table} MATCH ? LIMIT ${TEXT_INDEX_MAX_MATCHES + 1})`).bind(match),
    ),
  );
  let best: { text: TextMatch; matches: number } | null = null;
  for (const [i, result] of counted.entries()) {
    const n = result.results[0]!.n;
    if (n <= TEXT_INDEX_MAX_MATCHES && (!best || n < best.matches)) best = { text: matches[i]!, matches: n };
  }
  return best;
}

/** sparsestTextMatch's match alone. */
export async function sparseTextMatch(db: D1Database, matches: TextMatch[]): Promise<TextMatch | null> {
  return (await sparsestTextMatch(db, matches))?.text ?? null;
}

/**
 * The FROM clause of a page driven by a text index: its matching rowids, each joined to its event
 * by rowid (CROSS JOIN keeps the index the outer loop; SQLite does not reorder a CROSS JOIN). The
 * page's own conditions (domain, range, anchor, the filters compiled with `drivenBy`) then apply to
 * those rows, which are sorted for the page: at most TEXT_INDEX_MAX_MATCHES of them. In the lean
 * layout the index holds parts, each joined to its events by events_by_part, and the part (p) to them.
 */
export function textDrivenFrom({ table, match }: TextMatch, layout: EventsLayout = "legacy"): SqlFragment {
  const rows = `(SELECT rowid AS text_rowid FROM ${table} WHERE ${table} MATCH ?) AS text_rows`;
  return {
    sql:
      layout === "lean"
        ? // INDEXED BY: left to itself, SQLite walks the domain's time index for each part instead.
          `${rows} CROSS JOIN events AS e INDEXED BY events_by_part ON e.part = text_rows.text_rowid CROSS JOIN event_parts AS p ON p.ref = e.part`
        : `${rows} CROSS JOIN events AS e ON e.rowid = text_rows.text_rowid`,
    params: [match],
  };
}
