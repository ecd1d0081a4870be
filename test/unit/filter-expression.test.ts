import { describe, expect, it } from "vitest";
import { type FilterNode, FilterSyntaxError, MAX_EXPRESSION_LENGTH, MAX_TERMS, parseFilterExpression } from "../../src/domain/filter-expression";

const term = (value: string): FilterNode => ({ kind: "term", value });
const and = (...items: FilterNode[]): FilterNode => ({ kind: "and", items });
const or = (...items: FilterNode[]): FilterNode => ({ kind: "or", items });
const not = (item: FilterNode): FilterNode => ({ kind: "not", item });
const compare = (op: ">" | ">=" | "<" | "<=", value: number): FilterNode => ({ kind: "compare", op, value });

/** Asserts the expression is refused with a FilterSyntaxError whose message matches. */
function expectSyntaxError(text: string, message: RegExp, options?: { commaIsOr?: boolean }) {
  let caught: unknown;
  try {
    parseFilterExpression(text, options);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${JSON.stringify(text)} to be refused`).toBeInstanceOf(FilterSyntaxError);
  expect((caught as Error).message).toMatch(message);
}

describe("filter expressions: terms and boolean operators", () => {
  it("reads a single word as one term", () => {
    expect(parseFilterExpression("delivered")).toEqual(term("delivered"));
    expect(parseFilterExpression("  padded\t")).toEqual(term("padded"));
  });

  it("treats juxtaposed terms as an implicit AND, the same tree as an explicit AND", () => {
    expect(parseFilterExpression("foo bar")).toEqual(and(term("foo"), term("bar")));
    expect(parseFilterExpression("foo AND bar")).toEqual(and(term("foo"), term("bar")));
    expect(parseFilterExpression("a b AND c")).toEqual(and(term("a"), term("b"), term("c")));
  });

  it("reads OR between terms", () => {
    expect(parseFilterExpression("foo OR bar")).toEqual(or(term("foo"), term("bar")));
    expect(parseFilterExpression("a OR b OR c")).toEqual(or(term("a"), term("b"), term("c")));
  });

  it("binds AND (explicit or implicit) tighter than OR", () => {
    expect(parseFilterExpression("a OR b AND c")).toEqual(or(term("a"), and(term("b"), term("c"))));
    expect(parseFilterExpression("a AND b OR c")).toEqual(or(and(term("a"), term("b")), term("c")));
    expect(parseFilterExpression("a b OR c d")).toEqual(or(and(term("a"), term("b")), and(term("c"), term("d"))));
  });

  it("binds NOT to the single operand that follows it", () => {
    expect(parseFilterExpression("NOT foo")).toEqual(not(term("foo")));
    expect(parseFilterExpression("NOT a b")).toEqual(and(not(term("a")), term("b")));
    expect(parseFilterExpression("a NOT b")).toEqual(and(term("a"), not(term("b"))));
    expect(parseFilterExpression("a AND NOT b")).toEqual(and(term("a"), not(term("b"))));
    expect(parseFilterExpression("NOT a OR b")).toEqual(or(not(term("a")), term("b")));
    expect(parseFilterExpression("NOT NOT a")).toEqual(not(not(term("a"))));
  });

  it("applies NOT to a whole parenthesised group", () => {
    expect(parseFilterExpression("NOT (a OR b)")).toEqual(not(or(term("a"), term("b"))));
  });

  it("only treats upper-case AND, OR and NOT as operators", () => {
    // Lower-case words are ordinary terms (a subject may well contain "or"), joined by implicit AND.
    expect(parseFilterExpression("cats and dogs")).toEqual(and(term("cats"), term("and"), term("dogs")));
    expect(parseFilterExpression("this or that")).toEqual(and(term("this"), term("or"), term("that")));
    expect(parseFilterExpression("not")).toEqual(term("not"));
    expect(parseFilterExpression("ANDROID ORDER NOTE")).toEqual(and(term("ANDROID"), term("ORDER"), term("NOTE")));
  });
});

describe("filter expressions: quoted phrases", () => {
  it("reads a quoted phrase as one term, spaces included", () => {
    expect(parseFilterExpression('"foo bar"')).toEqual(term("foo bar"));
    expect(parseFilterExpression('"  spaced  "')).toEqual(term("  spaced  "));
  });

  it("does not read operators, parentheses or commas inside quotes", () => {
    expect(parseFilterExpression('"a AND b"')).toEqual(term("a AND b"));
    expect(parseFilterExpression('"NOT (x) OR y"')).toEqual(term("NOT (x) OR y"));
    expect(parseFilterExpression('"a,b"', { commaIsOr: true })).toEqual(term("a,b"));
  });

  it("keeps a quoted comparison as text", () => {
    expect(parseFilterExpression('">10000"')).toEqual(term(">10000"));
  });

  it("combines phrases with words and operators", () => {
    expect(parseFilterExpression('"Hello there" OR Bye')).toEqual(or(term("Hello there"), term("Bye")));
    expect(parseFilterExpression('NOT "spam offer" deal')).toEqual(and(not(term("spam offer")), term("deal")));
  });

  it("ends a bare word at a quote", () => {
    expect(parseFilterExpression('foo"bar baz"')).toEqual(and(term("foo"), term("bar baz")));
  });
});

describe("filter expressions: parentheses", () => {
  it("groups to override precedence", () => {
    expect(parseFilterExpression("(a OR b) c")).toEqual(and(or(term("a"), term("b")), term("c")));
    expect(parseFilterExpression("a AND (b OR c)")).toEqual(and(term("a"), or(term("b"), term("c"))));
  });

  it("parses Mailgun's documented example", () => {
    expect(parseFilterExpression("(Hello AND NOT Rachel) OR (Farewell AND Monica)")).toEqual(
      or(and(term("Hello"), not(term("Rachel"))), and(term("Farewell"), term("Monica"))),
    );
  });

  it("drops redundant parentheses and needs no spaces around them", () => {
    expect(parseFilterExpression("((a))")).toEqual(term("a"));
    expect(parseFilterExpression("(a)(b)")).toEqual(and(term("a"), term("b")));
    expect(parseFilterExpression("x(y OR z)")).toEqual(and(term("x"), or(term("y"), term("z"))));
  });

  it("accepts 16 levels of nesting and refuses 17", () => {
    expect(parseFilterExpression(`${"(".repeat(16)}a${")".repeat(16)}`)).toEqual(term("a"));
    expectSyntaxError(`${"(".repeat(17)}a${")".repeat(17)}`, /nested too deeply/);
    expect(parseFilterExpression(`${"NOT ".repeat(16)}a`)).toMatchObject({ kind: "not" });
    expectSyntaxError(`${"NOT ".repeat(17)}a`, /nested too deeply/);
  });
});

describe("filter expressions: numeric comparisons", () => {
  it("reads each comparison operator", () => {
    expect(parseFilterExpression(">10000")).toEqual(compare(">", 10000));
    expect(parseFilterExpression("<20000")).toEqual(compare("<", 20000));
    expect(parseFilterExpression(">=5")).toEqual(compare(">=", 5));
    expect(parseFilterExpression("<=7")).toEqual(compare("<=", 7));
  });

  it("reads a range as two comparisons ANDed", () => {
    expect(parseFilterExpression(">10000 <20000")).toEqual(and(compare(">", 10000), compare("<", 20000)));
    expect(parseFilterExpression(">=1 AND <=2")).toEqual(and(compare(">=", 1), compare("<=", 2)));
  });

  it("accepts negative and decimal numbers", () => {
    expect(parseFilterExpression(">-3")).toEqual(compare(">", -3));
    expect(parseFilterExpression("<=1.5")).toEqual(compare("<=", 1.5));
  });

  it("combines comparisons with OR and NOT", () => {
    expect(parseFilterExpression("<10 OR >100")).toEqual(or(compare("<", 10), compare(">", 100)));
    expect(parseFilterExpression("NOT >5")).toEqual(not(compare(">", 5)));
  });

  it("keeps a word that only looks like a comparison as a term", () => {
    expect(parseFilterExpression(">abc")).toEqual(term(">abc"));
    expect(parseFilterExpression("=5")).toEqual(term("=5"));
    expect(parseFilterExpression("5")).toEqual(term("5"));
    expect(parseFilterExpression(">5kb")).toEqual(term(">5kb"));
  });
});

describe("filter expressions: commaIsOr", () => {
  it("reads commas as OR when asked (mailgun.js joins array values with commas)", () => {
    expect(parseFilterExpression("delivered,failed", { commaIsOr: true })).toEqual(or(term("delivered"), term("failed")));
    expect(parseFilterExpression("a, b ,c", { commaIsOr: true })).toEqual(or(term("a"), term("b"), term("c")));
  });

  it("gives a comma OR's precedence, below implicit AND", () => {
    expect(parseFilterExpression("a b,c", { commaIsOr: true })).toEqual(or(and(term("a"), term("b")), term("c")));
  });

  it("keeps commas inside words otherwise", () => {
    expect(parseFilterExpression("delivered,failed")).toEqual(term("delivered,failed"));
    expect(parseFilterExpression("Hello, world")).toEqual(and(term("Hello,"), term("world")));
  });

  it("refuses a dangling comma like a dangling OR", () => {
    expectSyntaxError("a,", /ends where a term was expected/, { commaIsOr: true });
    expectSyntaxError(",a", /unexpected OR/, { commaIsOr: true });
  });
});

describe("filter expressions: syntax errors", () => {
  it("refuses an unterminated quote", () => {
    expectSyntaxError('"foo bar', /unterminated quoted phrase/);
    expectSyntaxError('a "b" "c', /unterminated quoted phrase/);
  });

  it("refuses an empty quoted phrase", () => {
    expectSyntaxError('""', /empty quoted phrase/);
  });

  it("refuses a missing closing parenthesis", () => {
    expectSyntaxError("(a OR b", /missing closing parenthesis/);
    expectSyntaxError("((a) OR b", /missing closing parenthesis/);
  });

  it("refuses an extra or unopened closing parenthesis", () => {
    expectSyntaxError("a)", /unexpected '\)'/);
    expectSyntaxError("(a))", /unexpected '\)'/);
    expectSyntaxError(")a(", /unexpected '\)'/);
    expectSyntaxError("()", /unexpected '\)'/);
  });

  it("refuses an empty or blank expression", () => {
    expectSyntaxError("", /empty expression/);
    expectSyntaxError("   \t ", /empty expression/);
  });

  it("refuses a dangling operator", () => {
    expectSyntaxError("a AND", /ends where a term was expected/);
    expectSyntaxError("a OR", /ends where a term was expected/);
    expectSyntaxError("OR b", /unexpected OR/);
    expectSyntaxError("AND b", /unexpected AND/);
    expectSyntaxError("NOT", /ends where a term was expected/);
    expectSyntaxError("a NOT", /ends where a term was expected/);
    expectSyntaxError("a AND OR b", /unexpected OR/);
    expectSyntaxError("(a AND) b", /unexpected '\)'/);
  });

  it(`accepts ${MAX_TERMS} terms and refuses one more`, () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`);
    const tree = parseFilterExpression(words(MAX_TERMS).join(" "));
    expect(tree).toEqual(and(...words(MAX_TERMS).map(term)));
    expectSyntaxError(words(MAX_TERMS + 1).join(" "), new RegExp(`more than ${MAX_TERMS} terms`));
    // Comparisons and phrases count as terms too.
    expectSyntaxError(Array.from({ length: MAX_TERMS + 1 }, (_, i) => (i % 2 ? `>${i}` : `"p ${i}"`)).join(" OR "), /more than/);
  });

  it(`accepts ${MAX_EXPRESSION_LENGTH} characters and refuses one more`, () => {
    expect(parseFilterExpression("x".repeat(MAX_EXPRESSION_LENGTH))).toEqual(term("x".repeat(MAX_EXPRESSION_LENGTH)));
    expectSyntaxError("x".repeat(MAX_EXPRESSION_LENGTH + 1), /longer than/);
    // Length is checked before anything else, so even blank padding counts.
    expectSyntaxError(`a${" ".repeat(MAX_EXPRESSION_LENGTH)}`, /longer than/);
  });

  it("throws FilterSyntaxError, an Error subclass, for every refusal", () => {
    for (const bad of ["", '"', "(", ")", "AND", "OR", "NOT", "a AND", "x".repeat(MAX_EXPRESSION_LENGTH + 1)]) {
      expect(() => parseFilterExpression(bad)).toThrow(FilterSyntaxError);
      expect(() => parseFilterExpression(bad)).toThrow(Error);
    }
  });
});
