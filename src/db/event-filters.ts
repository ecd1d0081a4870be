// Compiles Events API filter expressions (domain/filter-expression.ts) into a parameterised SQL
// condition over the `events` table (alias e). Values are always bound, never spliced in.
import { type FilterNode, FilterSyntaxError, parseFilterExpression } from "../domain/filter-expression";

type FieldKind = "exact" | "contains" | "numeric" | "tag";

/** Events API filter parameter -> column and how a term matches it. */
const FIELDS: Record<string, { column: string; kind: FieldKind; commaIsOr: boolean }> = {
  event: { column: "e.event", kind: "exact", commaIsOr: true },
  severity: { column: "e.severity", kind: "exact", commaIsOr: true },
  recipient: { column: "e.recipient", kind: "exact", commaIsOr: true },
  "message-id": { column: "e.message_id", kind: "exact", commaIsOr: true },
  tags: { column: "", kind: "tag", commaIsOr: true },
  from: { column: "e.from_header", kind: "contains", commaIsOr: false },
  to: { column: "e.to_header", kind: "contains", commaIsOr: false },
  subject: { column: "e.subject", kind: "contains", commaIsOr: false },
  size: { column: "e.size", kind: "numeric", commaIsOr: false },
};

/** D1 binds at most 100 values per statement; paging and range take the rest. */
const MAX_FILTER_VALUES = 90;

export const FILTER_FIELDS = Object.keys(FIELDS);

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, "\\$&");
}

function compileNode(node: FilterNode, field: string, params: unknown[]): string {
  const { column, kind } = FIELDS[field]!;
  switch (node.kind) {
    case "and":
    case "or":
      return `(${node.items.map((item) => compileNode(item, field, params)).join(node.kind === "and" ? " AND " : " OR ")})`;
    case "not":
      // coalesce: an event without the field (NULL) counts as not matching, so NOT keeps it.
      return `NOT coalesce(${compileNode(node.item, field, params)}, 0)`;
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
        return "EXISTS (SELECT 1 FROM event_tags t WHERE t.domain = e.domain AND t.tag = ? AND t.ts = e.ts AND t.event_id = e.id)";
      }
      if (kind === "contains") {
        params.push(`%${escapeLike(node.value)}%`);
        return `coalesce(${column}, '') LIKE ? ESCAPE '\\'`;
      }
      params.push(field === "recipient" ? node.value.toLowerCase() : node.value);
      return `${column} = ?`;
  }
}

/** The filters as one condition, and the tag every match must carry when the `tags` filters name one plainly. */
export interface CompiledFilters extends SqlFragment {
  /**
   * Named plainly (an expression that is one term, or an AND with a term among its items): the
   * store then walks that tag's rows in event_tags, in time order, instead of the domain's whole
   * time index, so a rare or unknown tag costs what it matches, not what the domain holds.
   */
  drivingTag: string | null;
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
 * caller) for an unknown field or an expression that does not parse.
 */
export function compileEventQuery(filters: Record<string, string[]>): CompiledFilters {
  const params: unknown[] = [];
  const parts: string[] = [];
  let drivingTag: string | null = null;
  for (const [field, expressions] of Object.entries(filters)) {
    const spec = Object.hasOwn(FIELDS, field) ? FIELDS[field] : undefined;
    if (!spec) throw new FilterSyntaxError(`unknown filter '${field}'`);
    for (const expression of expressions) {
      let tree: FilterNode;
      try {
        tree = parseFilterExpression(expression, { commaIsOr: spec.commaIsOr });
      } catch (error) {
        if (error instanceof FilterSyntaxError) throw new FilterSyntaxError(`${field}: ${error.message}`);
        throw error;
      }
      parts.push(compileNode(tree, field, params));
      if (spec.kind === "tag") drivingTag ??= requiredTag(tree);
    }
  }
  if (params.length > MAX_FILTER_VALUES) throw new FilterSyntaxError(`filters use more than ${MAX_FILTER_VALUES} values`);
  return { sql: parts.join(" AND "), params, drivingTag };
}

/** The filters as one parameterised condition (compileEventQuery without the driving tag). */
export function compileEventFilters(filters: Record<string, string[]>): SqlFragment {
  const { sql, params } = compileEventQuery(filters);
  return { sql, params };
}
