// Mailgun's filter-expression syntax for Events API filters: implicit AND, AND, OR, NOT,
// "quoted phrases", parentheses, and numeric comparisons (>10000 <20000). Parsed into a tree that
// db/event-filters.ts turns into parameterised SQL; nothing here builds SQL.

export type FilterNode =
  | { kind: "and" | "or"; items: FilterNode[] }
  | { kind: "not"; item: FilterNode }
  | { kind: "term"; value: string }
  | { kind: "compare"; op: ">" | ">=" | "<" | "<="; value: number };

export class FilterSyntaxError extends Error {}

type Token = { type: "open" | "close" | "and" | "or" | "not" } | { type: "term"; value: string; quoted: boolean };

/** Longest expression accepted, in characters, and most terms: each term is one bound SQL value. */
export const MAX_EXPRESSION_LENGTH = 1000;
export const MAX_TERMS = 40;
const MAX_DEPTH = 16;

function tokenize(text: string, commaIsOr: boolean): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")") {
      tokens.push({ type: c === "(" ? "open" : "close" });
      i++;
    } else if (c === "," && commaIsOr) {
      tokens.push({ type: "or" });
      i++;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new FilterSyntaxError("unterminated quoted phrase");
      tokens.push({ type: "term", value: text.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else {
      let end = i;
      while (end < text.length && !/[\s()"]/.test(text[end]!) && !(commaIsOr && text[end] === ",")) end++;
      const word = text.slice(i, end);
      if (word === "AND") tokens.push({ type: "and" });
      else if (word === "OR") tokens.push({ type: "or" });
      else if (word === "NOT") tokens.push({ type: "not" });
      else tokens.push({ type: "term", value: word, quoted: false });
      i = end;
    }
  }
  return tokens;
}

const COMPARISON = /^(>=|<=|>|<)(-?\d+(?:\.\d+)?)$/;

/**
 * Parses one filter expression. `commaIsOr` makes "a,b" mean "a OR b", which is how mailgun.js
 * sends array values (URLSearchParams joins them with commas).
 */
export function parseFilterExpression(text: string, options: { commaIsOr?: boolean } = {}): FilterNode {
  if (text.length > MAX_EXPRESSION_LENGTH) throw new FilterSyntaxError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const tokens = tokenize(text, options.commaIsOr ?? false);
  if (tokens.length === 0) throw new FilterSyntaxError("empty expression");
  let at = 0;
  let terms = 0;

  const parseOr = (depth: number): FilterNode => {
    const items = [parseAnd(depth)];
    while (tokens[at]?.type === "or") {
      at++;
      items.push(parseAnd(depth));
    }
    return items.length === 1 ? items[0]! : { kind: "or", items };
  };
  const parseAnd = (depth: number): FilterNode => {
    const items = [parseUnary(depth)];
    for (;;) {
      const next = tokens[at];
      if (next?.type === "and") {
        at++;
        items.push(parseUnary(depth));
      } else if (next && (next.type === "term" || next.type === "not" || next.type === "open")) {
        items.push(parseUnary(depth)); // juxtaposition is an implicit AND
      } else break;
    }
    return items.length === 1 ? items[0]! : { kind: "and", items };
  };
  const parseUnary = (depth: number): FilterNode => {
    if (depth > MAX_DEPTH) throw new FilterSyntaxError("expression nested too deeply");
    const token = tokens[at];
    if (!token) throw new FilterSyntaxError("expression ends where a term was expected");
    if (token.type === "not") {
      at++;
      return { kind: "not", item: parseUnary(depth + 1) };
    }
    if (token.type === "open") {
      at++;
      const inner = parseOr(depth + 1);
      if (tokens[at]?.type !== "close") throw new FilterSyntaxError("missing closing parenthesis");
      at++;
      return inner;
    }
    if (token.type === "term") {
      at++;
      if (++terms > MAX_TERMS) throw new FilterSyntaxError(`more than ${MAX_TERMS} terms`);
      const comparison = token.quoted ? null : COMPARISON.exec(token.value);
      if (comparison) {
        const value = Number(comparison[2]);
        if (!Number.isFinite(value)) throw new FilterSyntaxError("the number is too large");
        return { kind: "compare", op: comparison[1] as ">" | ">=" | "<" | "<=", value };
      }
      if (token.value === "") throw new FilterSyntaxError("empty quoted phrase");
      return { kind: "term", value: token.value };
    }
    throw new FilterSyntaxError(`unexpected ${token.type === "close" ? "')'" : token.type.toUpperCase()}`);
  };

  const tree = parseOr(0);
  if (at < tokens.length) throw new FilterSyntaxError(`unexpected ${tokens[at]!.type === "close" ? "')'" : "token"}`);
  return tree;
}
