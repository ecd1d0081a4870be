// Compiles Events API filter expressions (domain/filter-expression.ts) into a parameterised SQL
// condition over the `events` table (alias e) of either layout: the control database's, with every
// column in the row, or an event shard's lean one, whose message columns are in its part (alias p,
// migrations-events/0003). Values are always bound, never spliced in.
import { type FilterNode, FilterSyntaxError, parseFilterExpression } from "../domain/filter-expression";
import { eventCode, messageKey } from "../domain/lean-event";
import { isIndexableTerm, trigramMatch } from "../domain/trigram-match";

type FieldKind = "exact" | "contains" | "numeric" | "tag";

/** Events API filter parameter -> column and how a term matches it. */
const FIELDS: Record<string, { column: string; kind: FieldKind; commaIsOr: boolean; textIndex?: string }> = {
  event: { column: "e.event", kind: "exact", commaIsOr: true },
  severity: { column: "e.severity", kind: "exact", commaIsOr: true },
  recipient: { column: "e.recipient", kind: "exact", commaIsOr: true },
  "message-id": { column: "e.message_id", kind: "exact", commaIsOr: true },
  tags: { column: "", kind: "tag", commaIsOr: true },
  // textIndex: the FTS5 trigram table over the column (migrations/0012, migrations-events/0002).
  from: { column: "e.from_header", kind: "contains", commaIsOr: false, textIndex: "events_text_from" },
  to: { column: "e.to_header", kind: "contains", commaIsOr: false, textIndex: "events_text_to" },
  subject: { column: "e.subject", kind: "contains", commaIsOr: false, textIndex: "events_text_subject" },
  size: { column: "e.size", kind: "numeric", commaIsOr: false },
};

/**
 * Where a layout keeps what the filters read. `legacy`: the control database's events table
 * (migrations/0001), every column in the row. `lean`: an event shard's (migrations-events/0003),
 * the message's columns in event_parts (joined as p; subject and from by id in event_texts), event names as codes, tags by tag id and rowid, text indexes
 * over the parts.
 */
export type EventsLayout = "legacy" | "lean";

const LEAN_COLUMNS: ReadonlyMap<string, string> = new Map([
  ["message-id", "p.message_id"],
  ["from", "(SELECT text FROM event_texts WHERE id = p.from_id)"],
  ["to", "p.to_header"],
  ["subject", "(SELECT text FROM event_texts WHERE id = p.subject_id)"],
]);

const TAG_PROBE: Record<EventsLayout, string> = {
  legacy: "EXISTS (SELECT 1 FROM event_tags t WHERE t.domain = e.domain AND t.tag = ? AND t.ts = e.ts AND t.event_id = e.id)",
  lean: "EXISTS (SELECT 1 FROM event_tags t WHERE t.tag = (SELECT id FROM event_tag_names WHERE domain_id = e.domain_id AND name = ?) AND t.ts = e.ts AND t.seq = e.seq)",
};

/** The rowid a layout's text indexes hold: the event's, or its part's. */
const TEXT_ROWID: Record<EventsLayout, string> = { legacy: "e.rowid", lean: "e.part" };

/** D1 binds at most 100 values per statement; paging and range take the rest. */
const MAX_FILTER_VALUES = 90;

export const FILTER_FIELDS = Object.keys(FIELDS);

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/**
 * Most matches a text index may report in one database for a filter to use it: up to this many,
 * the walk over the domain's time index tests each entry against that set of rowids (read from the
 * index alone, no table row), or a store reads the page from them (event-text.ts); past it the
 * term is dense and the walk's LIKE finds a page quickly. Counting stops at this bound, so the
 * probe reads index entries until this many match: a term one event in 200 matches made the probe
 * cost about as much as the walk's page at 5,000 over 1.6M events, hence 1,000 (bench/support/text-filters.ts).
 */
export const TEXT_INDEX_MAX_MATCHES = 1000; // rows

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, "\\$&");
}

/**
 * `required`: every match of the whole expression must match this node (the root, or inside ANDs
 * only). Such a contains-term goes into `textTerms`, to be narrowed by the field's text index.
 */
function compileNode(node: FilterNode, field: string, params: unknown[], required: boolean, textTerms: string[], layout: EventsLayout): string {
  const { kind } = FIELDS[field]!;
  const column = (layout === "lean" && LEAN_COLUMNS.get(field)) || FIELDS[field]!.column;
  switch (node.kind) {
    case "and":
    case "or":
      return `(${node.items.map((item) => compileNode(item, field, params, required && node.kind === "and", textTerms, layout)).join(node.kind === "and" ? " AND " : " OR ")})`;
    case "not":
      // coalesce: an event without the field (NULL) counts as not matching, so NOT keeps it.
      return `NOT coalesce(${compileNode(node.item, field, params, false, textTerms, layout)}, 0)`;
    case "compare":
      if (kind !== "numeric") throw new FilterSyntaxError(`'${field}' does not take numeric comparisons`);
      params.push(node.value);
      return `${column} ${node.op} ?`;
    case "term":
      if (kind === "numeric") {
        const n = Number(node.value);
        if (!Number.isFinite(n)) throw new FilterSyntaxError(`'${field}' needs a number, got '${node.value}'`);
        params.push(n);
        return `${column} = ?`;
      }
      if (kind === "tag") {
        params.push(node.value.toLowerCase());
        return TAG_PROBE[layout];
      }
      if (kind === "contains") {
        if (required && isIndexableTerm(node.value)) textTerms.push(node.value);
        params.push(`%${escapeLike(node.value)}%`);
        return `coalesce(${column}, '') LIKE ? ESCAPE '\\'`;
      }
      if (layout === "lean" && field === "message-id") {
        // By its key first (event_parts_by_message), then the text.
        params.push(messageKey(node.value), node.value);
        return `(p.message_key = ? AND ${column} = ?)`;
      }
      params.push(field === "recipient" ? node.value.toLowerCase() : layout === "lean" && field === "event" ? eventCode(node.value) : node.value);
      return `${column} = ?`;
  }
}

/**
 * The rows of a text index holding every trigram of a field's required terms, as a condition on
 * e.rowid, when there are at most TEXT_INDEX_MAX_MATCHES of them in the database; otherwise true.
 * Both subqueries are uncorrelated, so SQLite runs each once per statement (the IN list only when
 * the count lets it); the LIKE beside it still decides each row, so the result is exactly LIKE's.
 */
function textIndexCondition(table: string, layout: EventsLayout): string {
  return (
    `CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM ${table} WHERE ${table} MATCH ? LIMIT ${TEXT_INDEX_MAX_MATCHES + 1})) > ${TEXT_INDEX_MAX_MATCHES}` +
    ` THEN 1 ELSE ${TEXT_ROWID[layout]} IN (SELECT rowid FROM ${table} WHERE ${table} MATCH ?) END`
  );
}

/** A field's text index and the FTS5 expression every match of its filters satisfies. */
export interface TextMatch {
  table: string;
  match: string;
}

/** The filters as one condition, and the tag every match must carry when the `tags` filters name one plainly. */
export interface CompiledFilters extends SqlFragment {
  /**
   * Named plainly (an expression that is one term, or an AND with a term among its items): the
   * store then walks that tag's rows in event_tags, in time order, instead of the domain's whole
   * time index, so a rare or unknown tag costs what it matches, not what the domain holds.
   */
  drivingTag: string | null;
  /**
   * A field every match must equal a value of (`message-id`, `recipient` or `event`, named plainly,
   * in that order of preference): a store whose indexes do not all end in the page order reads the
   * page from that field's index rather than let SQLite walk the time index to save a sort.
   */
  drivingField: "message-id" | "recipient" | "event" | null;
  /**
   * The text indexes the condition narrows by (subject, from, to terms of 3+ characters that every
   * match requires), for a store that would rather drive a page from the index (textDrivenFrom).
   */
  textMatches: TextMatch[];
}

/** Fields that can drive a page from an index of their own (CompiledFilters.drivingField), best first. */
const DRIVING_FIELDS = ["message-id", "recipient", "event"] as const;

/** Whether an expression requires one plain value of every match (a term, or an AND with a term among its items). */
function requiresTerm(tree: FilterNode): boolean {
  return tree.kind === "term" || (tree.kind === "and" && tree.items.some((item) => item.kind === "term"));
}

/** The tag a `tags` expression requires of every match, lower-cased, or null when it requires none. */
function requiredTag(tree: FilterNode): string | null {
  if (tree.kind === "term") return tree.value.toLowerCase();
  if (tree.kind === "and") {
    const term = tree.items.find((item) => item.kind === "term");
    if (term?.kind === "term") return term.value.toLowerCase();
  }
  return null;
}

/**
 * ANDs every expression of every field, parsing each once. Throws FilterSyntaxError (a 400 for the
 * caller) for an unknown field or an expression that does not parse. A contains-field whose
 * expressions require indexable terms is also narrowed by its text index (textIndexCondition),
 * two more bound values, left out when they would take the statement past MAX_FILTER_VALUES, for
 * `drivenBy`, the index a store already reads the page from (event-text.ts textDrivenFrom), and
 * all of them when `denseText`: the store's own count (sparseTextMatch) found every one dense.
 */
export function compileEventQuery(
  filters: Record<string, string[]>,
  options: { drivenBy?: TextMatch; denseText?: boolean; layout?: EventsLayout } = {},
): CompiledFilters {
  const layout = options.layout ?? "legacy";
  const compiled: Array<{ sql: string[]; params: unknown[]; text: TextMatch | null }> = [];
  let drivingTag: string | null = null;
  const plainFields = new Set<string>();
  let values = 0;
  for (const [field, expressions] of Object.entries(filters)) {
    const spec = Object.hasOwn(FIELDS, field) ? FIELDS[field] : undefined;
    if (!spec) throw new FilterSyntaxError(`unknown filter '${field}'`);
    const entry = { sql: [] as string[], params: [] as unknown[], text: null as TextMatch | null };
    const textTerms: string[] = [];
    for (const expression of expressions) {
      let tree: FilterNode;
      try {
        tree = parseFilterExpression(expression, { commaIsOr: spec.commaIsOr });
      } catch (error) {
        if (error instanceof FilterSyntaxError) throw new FilterSyntaxError(`${field}: ${error.message}`);
        throw error;
      }
      entry.sql.push(compileNode(tree, field, entry.params, true, textTerms, layout));
      if (spec.kind === "tag") drivingTag ??= requiredTag(tree);
      if (requiresTerm(tree)) plainFields.add(field);
    }
    const match = spec.textIndex ? trigramMatch(textTerms) : null;
    if (spec.textIndex && match) entry.text = { table: spec.textIndex, match };
    values += entry.params.length;
    compiled.push(entry);
  }
  if (values > MAX_FILTER_VALUES) throw new FilterSyntaxError(`filters use more than ${MAX_FILTER_VALUES} values`);
  const useIndexes = !options.denseText && values + 2 * compiled.filter((entry) => entry.text).length <= MAX_FILTER_VALUES;
  const parts: string[] = [];
  const params: unknown[] = [];
  const textMatches: TextMatch[] = [];
  for (const entry of compiled) {
    if (entry.text && useIndexes && entry.text.table !== options.drivenBy?.table) {
      parts.push(textIndexCondition(entry.text.table, layout));
      params.push(entry.text.match, entry.text.match);
    }
    if (entry.text) textMatches.push(entry.text);
    parts.push(...entry.sql);
    params.push(...entry.params);
  }
  const drivingField = DRIVING_FIELDS.find((field) => plainFields.has(field)) ?? null;
  return { sql: parts.join(" AND "), params, drivingTag, drivingField, textMatches };
}

/** The filters as one parameterised condition (compileEventQuery without the driving tag). */
export function compileEventFilters(filters: Record<string, string[]>): SqlFragment {
  const { sql, params } = compileEventQuery(filters);
  return { sql, params };
}
