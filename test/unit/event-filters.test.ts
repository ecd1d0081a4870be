import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { compileEventFilters, compileEventQuery, FILTER_FIELDS } from "../../src/db/event-filters";
import { FilterSyntaxError } from "../../src/domain/filter-expression";

const LIKE = "coalesce(e.subject, '') LIKE ? ESCAPE '\\'";
const TAG = "EXISTS (SELECT 1 FROM event_tags t WHERE t.domain = e.domain AND t.tag = ? AND t.ts = e.ts AND t.event_id = e.id)";

function expectRefused(filters: Record<string, string[]>, message: RegExp) {
  let caught: unknown;
  try {
    compileEventFilters(filters);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${JSON.stringify(filters)} to be refused`).toBeInstanceOf(FilterSyntaxError);
  expect((caught as Error).message).toMatch(message);
}

describe("compileEventFilters: SQL shape and bound values", () => {
  it("lists the Events API filter fields it understands", () => {
    expect([...FILTER_FIELDS].sort()).toEqual(["event", "from", "message-id", "recipient", "severity", "size", "subject", "tags", "to"]);
  });

  it("compiles no filters to an empty condition", () => {
    expect(compileEventFilters({})).toEqual({ sql: "", params: [] });
  });

  it("matches exact fields with = and binds the value as written", () => {
    expect(compileEventFilters({ event: ["delivered"] })).toEqual({ sql: "e.event = ?", params: ["delivered"] });
    expect(compileEventFilters({ severity: ["permanent"] })).toEqual({ sql: "e.severity = ?", params: ["permanent"] });
    expect(compileEventFilters({ "message-id": ["20250101.ABC@mg.Example.com"] })).toEqual({
      sql: "e.message_id = ?",
      params: ["20250101.ABC@mg.Example.com"],
    });
  });

  it("lower-cases the recipient, which is stored lower-cased", () => {
    expect(compileEventFilters({ recipient: ["Bob@Example.ORG"] })).toEqual({ sql: "e.recipient = ?", params: ["bob@example.org"] });
  });

  it("matches text fields by substring with LIKE, escaping %, _ and the escape character", () => {
    expect(compileEventFilters({ subject: ["Hello"] })).toEqual({ sql: LIKE, params: ["%Hello%"] });
    expect(compileEventFilters({ subject: ["50%_off\\now"] })).toEqual({ sql: LIKE, params: ["%50\\%\\_off\\\\now%"] });
    expect(compileEventFilters({ from: ["alice"] })).toEqual({ sql: "coalesce(e.from_header, '') LIKE ? ESCAPE '\\'", params: ["%alice%"] });
    expect(compileEventFilters({ to: ["bob"] })).toEqual({ sql: "coalesce(e.to_header, '') LIKE ? ESCAPE '\\'", params: ["%bob%"] });
  });

  it("compares numeric fields with the parsed number", () => {
    expect(compileEventFilters({ size: [">10000 <20000"] })).toEqual({ sql: "(e.size > ? AND e.size < ?)", params: [10000, 20000] });
    expect(compileEventFilters({ size: [">=1 OR <=2"] })).toEqual({ sql: "(e.size >= ? OR e.size <= ?)", params: [1, 2] });
    expect(compileEventFilters({ size: ["1234"] })).toEqual({ sql: "e.size = ?", params: [1234] });
    expect(compileEventFilters({ size: ["1234"] }).params[0]).toBeTypeOf("number");
  });

  it("matches tags through an EXISTS subquery, lower-cased", () => {
    expect(compileEventFilters({ tags: ["Newsletter"] })).toEqual({ sql: TAG, params: ["newsletter"] });
  });

  it("nests boolean structure with parentheses and prefixes NOT", () => {
    expect(compileEventFilters({ subject: ["Hello AND NOT Rachel"] })).toEqual({
      sql: `(${LIKE} AND NOT coalesce(${LIKE}, 0))`,
      params: ["%Hello%", "%Rachel%"],
    });
    expect(compileEventFilters({ subject: ["(a OR b) c"] })).toEqual({
      sql: `((${LIKE} OR ${LIKE}) AND ${LIKE})`,
      params: ["%a%", "%b%", "%c%"],
    });
    expect(compileEventFilters({ tags: ["NOT x"] })).toEqual({ sql: `NOT coalesce(${TAG}, 0)`, params: ["x"] });
  });

  it("reads commas as OR for list-like fields only", () => {
    expect(compileEventFilters({ event: ["delivered,failed"] })).toEqual({
      sql: "(e.event = ? OR e.event = ?)",
      params: ["delivered", "failed"],
    });
    expect(compileEventFilters({ tags: ["a,b"] })).toEqual({ sql: `(${TAG} OR ${TAG})`, params: ["a", "b"] });
    expect(compileEventFilters({ subject: ["Hi, there"] })).toEqual({ sql: `(${LIKE} AND ${LIKE})`, params: ["%Hi,%", "%there%"] });
  });

  it("ANDs every expression of every field, binding values in order", () => {
    expect(compileEventFilters({ event: ["delivered OR opened"], subject: ["x", "NOT y"], size: ["<5"] })).toEqual({
      sql: `(e.event = ? OR e.event = ?) AND ${LIKE} AND NOT coalesce(${LIKE}, 0) AND e.size < ?`,
      params: ["delivered", "opened", "%x%", "%y%", 5],
    });
  });

  it("never splices a value into the SQL", () => {
    const hostile = "x' OR 1=1 --";
    for (const field of ["event", "subject", "tags", "recipient"]) {
      const { sql, params } = compileEventFilters({ [field]: [`"${hostile}"`] });
      expect(sql).not.toContain("1=1");
      expect(params).toHaveLength(1);
      expect(String(params[0]).toLowerCase()).toContain(hostile.toLowerCase());
    }
  });
});

describe("compileEventFilters: refusals", () => {
  it("refuses an unknown field", () => {
    expectRefused({ colour: ["red"] }, /unknown filter 'colour'/);
    expectRefused({ event: ["delivered"], attachment: ["a.pdf"] }, /unknown filter 'attachment'/);
  });

  it("refuses a numeric comparison on a text field", () => {
    expectRefused({ subject: [">5"] }, /'subject' does not take numeric comparisons/);
    expectRefused({ event: ["delivered OR <3"] }, /'event' does not take numeric comparisons/);
    expectRefused({ tags: [">=1"] }, /'tags' does not take numeric comparisons/);
    // Quoted, it is text again.
    expect(compileEventFilters({ subject: ['">5"'] }).params).toEqual(["%>5%"]);
  });

  it("refuses a non-number on a numeric field", () => {
    expectRefused({ size: ["big"] }, /'size' needs a number, got 'big'/);
    expectRefused({ size: ['"100"', "Infinity"] }, /'size' needs a number, got 'Infinity'/);
  });

  it("prefixes a syntax error with the field it came from", () => {
    expectRefused({ subject: ['"unterminated'] }, /^subject: unterminated quoted phrase/);
    expectRefused({ event: ["delivered OR"] }, /^event: /);
    expectRefused({ tags: ["(a"] }, /^tags: missing closing parenthesis/);
  });

  it("refuses more than 90 bound values across all filters", () => {
    const terms = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(" OR ");
    const ninety = { subject: [terms(30, "s")], tags: [terms(30, "t")], event: [terms(30, "e")] };
    expect(compileEventFilters(ninety).params).toHaveLength(90);
    expectRefused({ ...ninety, size: ["1"] }, /more than 90 values/);
    expectRefused({ subject: [terms(31, "a"), terms(30, "b"), terms(30, "c")] }, /more than 90 values/);
  });
});

describe("compileEventFilters: semantics against D1", () => {
  const DOMAIN = `filters-${crypto.randomUUID()}.test`;
  const rows = [
    { id: "ev-1", event: "delivered", subject: "Hello Ross", size: 50, severity: null, tags: ["a"] },
    { id: "ev-2", event: "delivered", subject: "Hello Rachel", size: 150, severity: null, tags: ["b"] },
    { id: "ev-3", event: "failed", subject: "Farewell Monica", size: 199, severity: "permanent", tags: ["a", "c"] },
    { id: "ev-4", event: "opened", subject: "50% off_sale", size: 200, severity: null, tags: [] as string[] },
    { id: "ev-5", event: "failed", subject: "hello again", size: 100, severity: "temporary", tags: ["c"] },
    { id: "ev-6", event: "clicked", subject: null, size: null, severity: null, tags: ["A-B"] },
  ].map((row) => ({ ...row, id: `${DOMAIN}/${row.id}` }));

  beforeAll(async () => {
    const statements = rows.flatMap((row, i) => [
      env.DB.prepare("INSERT INTO events (id, domain, ts, event, severity, recipient, subject, size, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}')").bind(
        row.id,
        DOMAIN,
        1_700_000_000_000_000 + i,
        row.event,
        row.severity,
        `r${i}@example.org`,
        row.subject,
        row.size,
      ),
      ...row.tags.map((tag) =>
        env.DB.prepare("INSERT INTO event_tags (event_id, domain, tag, ts) VALUES (?, ?, ?, ?)").bind(
          row.id,
          DOMAIN,
          tag.toLowerCase(),
          1_700_000_000_000_000 + i,
        ),
      ),
    ]);
    await env.DB.batch(statements);
  });

  async function matching(filters: Record<string, string[]>): Promise<string[]> {
    const { sql, params } = compileEventFilters(filters);
    const { results } = await env.DB.prepare(`SELECT id FROM events AS e WHERE e.domain = ? AND ${sql} ORDER BY e.ts`)
      .bind(DOMAIN, ...params)
      .all<{ id: string }>();
    return results.map((r: { id: string }) => r.id.slice(DOMAIN.length + 1));
  }

  it("subject=Hello AND NOT Rachel, case-insensitively", async () => {
    expect(await matching({ subject: ["Hello AND NOT Rachel"] })).toEqual(["ev-1", "ev-5"]);
  });

  it("subject with the documented grouped example", async () => {
    expect(await matching({ subject: ["(Hello AND NOT Rachel) OR (Farewell AND Monica)"] })).toEqual(["ev-1", "ev-3", "ev-5"]);
  });

  it("subject NOT matches events without a subject", async () => {
    expect(await matching({ subject: ["NOT Hello"] })).toEqual(["ev-3", "ev-4", "ev-6"]);
  });

  it("subject treats % and _ literally", async () => {
    expect(await matching({ subject: ["%"] })).toEqual(["ev-4"]);
    expect(await matching({ subject: ['"o_R"'] })).toEqual([]); // as a wildcard, _ would match "Hello Ross"
    expect(await matching({ subject: ['"o R"'] })).toEqual(["ev-1", "ev-2"]);
    expect(await matching({ subject: ['"off_sale"'] })).toEqual(["ev-4"]);
  });

  it("size=>100 <200 is an exclusive range", async () => {
    expect(await matching({ size: [">100 <200"] })).toEqual(["ev-2", "ev-3"]);
    expect(await matching({ size: [">=100 <=200"] })).toEqual(["ev-2", "ev-3", "ev-4", "ev-5"]);
    expect(await matching({ size: ["150"] })).toEqual(["ev-2"]);
  });

  it("tags=a OR b, and tags are matched case-insensitively", async () => {
    expect(await matching({ tags: ["a OR b"] })).toEqual(["ev-1", "ev-2", "ev-3"]);
    expect(await matching({ tags: ["A c"] })).toEqual(["ev-3"]);
    expect(await matching({ tags: ["NOT c"] })).toEqual(["ev-1", "ev-2", "ev-4", "ev-6"]);
    expect(await matching({ tags: ["a-b"] })).toEqual(["ev-6"]);
  });

  it("event=delivered,failed", async () => {
    expect(await matching({ event: ["delivered,failed"] })).toEqual(["ev-1", "ev-2", "ev-3", "ev-5"]);
  });

  it("several fields and several expressions of one field are ANDed", async () => {
    expect(await matching({ event: ["failed"], severity: ["permanent"] })).toEqual(["ev-3"]);
    expect(await matching({ subject: ["Hello", "NOT Ross"] })).toEqual(["ev-2", "ev-5"]);
    expect(await matching({ event: ["delivered OR failed"], tags: ["a"], size: ["<100"] })).toEqual(["ev-1"]);
  });

  it("recipient matches whatever case the caller uses", async () => {
    expect(await matching({ recipient: ["R2@Example.ORG"] })).toEqual(["ev-3"]);
  });
});

describe("compileEventFilters: fixes found by review", () => {
  it("refuses names inherited from Object.prototype", () => {
    for (const name of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
      expect(() => compileEventFilters(JSON.parse(`{"${name}": ["x"]}`))).toThrow(/unknown filter/);
    }
  });
});

describe("compileEventQuery: the driving tag", () => {
  it("names a tag every match carries, lower-cased, and nothing when the expression does not require one", () => {
    expect(compileEventQuery({ tags: ["Newsletter"] }).drivingTag).toBe("newsletter");
    expect(compileEventQuery({ tags: ["alpha AND NOT beta"] }).drivingTag).toBe("alpha");
    expect(compileEventQuery({ tags: ["NOT beta alpha"] }).drivingTag).toBe("alpha");
    expect(compileEventQuery({ tags: ["alpha OR beta"] }).drivingTag).toBeNull();
    expect(compileEventQuery({ tags: ["alpha,beta"] }).drivingTag).toBeNull(); // a comma is OR for tags
    expect(compileEventQuery({ tags: ["NOT beta"] }).drivingTag).toBeNull();
    expect(compileEventQuery({ tags: ["(alpha OR beta)", "gamma"] }).drivingTag).toBe("gamma");
    expect(compileEventQuery({ recipient: ["a@example.org"] }).drivingTag).toBeNull();
    // An expression that does not parse is a 400 before anything is driven.
    expect(() => compileEventQuery({ tags: ['"unterminated'] })).toThrow(FilterSyntaxError);
  });
});
