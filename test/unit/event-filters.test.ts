import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { compileEventFilters, compileEventQuery, FILTER_FIELDS, TEXT_INDEX_MAX_MATCHES } from "../../src/db/event-filters";
import { type FilterNode, FilterSyntaxError, parseFilterExpression } from "../../src/domain/filter-expression";

const LIKE = "coalesce(e.subject, '') LIKE ? ESCAPE '\\'";
/** The narrowing by a text index that precedes a field's LIKE when its expressions require a term of 3+ characters. */
const INDEXED = (table: string) =>
  `CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM ${table} WHERE ${table} MATCH ? LIMIT ${TEXT_INDEX_MAX_MATCHES + 1})) > ${TEXT_INDEX_MAX_MATCHES} THEN 1 ELSE e.rowid IN (SELECT rowid FROM ${table} WHERE ${table} MATCH ?) END`;
const SUBJECT_INDEXED = INDEXED("events_text_subject");
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
    expect(compileEventFilters({ subject: ["Hi"] })).toEqual({ sql: LIKE, params: ["%Hi%"] });
    expect(compileEventFilters({ subject: ["5%"] })).toEqual({ sql: LIKE, params: ["%5\\%%"] });
    expect(compileEventFilters({ from: ["al"] })).toEqual({ sql: "coalesce(e.from_header, '') LIKE ? ESCAPE '\\'", params: ["%al%"] });
    expect(compileEventFilters({ to: ["b"] })).toEqual({ sql: "coalesce(e.to_header, '') LIKE ? ESCAPE '\\'", params: ["%b%"] });
  });

  it("narrows a required term of 3+ characters by the field's trigram index, the LIKE still deciding", () => {
    expect(compileEventFilters({ subject: ["Hello"] })).toEqual({
      sql: `${SUBJECT_INDEXED} AND ${LIKE}`,
      params: ['"Hel" AND "ell" AND "llo"', '"Hel" AND "ell" AND "llo"', "%Hello%"],
    });
    expect(compileEventFilters({ subject: ["50%_off\\now"] })).toEqual({
      sql: `${SUBJECT_INDEXED} AND ${LIKE}`,
      params: [
        '"50%" AND "0%_" AND "%_o" AND "_of" AND "off" AND "ff\\" AND "f\\n" AND "\\no" AND "now"',
        '"50%" AND "0%_" AND "%_o" AND "_of" AND "off" AND "ff\\" AND "f\\n" AND "\\no" AND "now"',
        "%50\\%\\_off\\\\now%",
      ],
    });
    expect(compileEventFilters({ from: ["alice"] })).toEqual({
      sql: `${INDEXED("events_text_from")} AND coalesce(e.from_header, '') LIKE ? ESCAPE '\\'`,
      params: ['"ali" AND "lic" AND "ice"', '"ali" AND "lic" AND "ice"', "%alice%"],
    });
    expect(compileEventFilters({ to: ["bob"] })).toEqual({
      sql: `${INDEXED("events_text_to")} AND coalesce(e.to_header, '') LIKE ? ESCAPE '\\'`,
      params: ['"bob"', '"bob"', "%bob%"],
    });
    // Terms under OR or NOT are not required of every match.
    expect(compileEventFilters({ subject: ["Hello OR Goodbye"] }).sql).toBe(`(${LIKE} OR ${LIKE})`);
    expect(compileEventFilters({ subject: ["NOT Hello"] }).sql).toBe(`NOT coalesce(${LIKE}, 0)`);
    // Every required term of every expression of the field in one index lookup.
    expect(compileEventFilters({ subject: ["Hello AND (x OR y) AND NOT Ross", "Monica"] })).toEqual({
      sql: `${SUBJECT_INDEXED} AND (${LIKE} AND (${LIKE} OR ${LIKE}) AND NOT coalesce(${LIKE}, 0)) AND ${LIKE}`,
      params: [
        '"Hel" AND "ell" AND "llo" AND "Mon" AND "oni" AND "nic" AND "ica"',
        '"Hel" AND "ell" AND "llo" AND "Mon" AND "oni" AND "nic" AND "ica"',
        "%Hello%",
        "%x%",
        "%y%",
        "%Ross%",
        "%Monica%",
      ],
    });
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
      sql: `${SUBJECT_INDEXED} AND (${LIKE} AND NOT coalesce(${LIKE}, 0))`,
      params: ['"Hel" AND "ell" AND "llo"', '"Hel" AND "ell" AND "llo"', "%Hello%", "%Rachel%"],
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
    expect(compileEventFilters({ subject: ["Hi, there"] })).toEqual({
      sql: `${SUBJECT_INDEXED} AND (${LIKE} AND ${LIKE})`,
      params: ['"Hi," AND "the" AND "her" AND "ere"', '"Hi," AND "the" AND "her" AND "ere"', "%Hi,%", "%there%"],
    });
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
      expect(sql).not.toContain("--");
      // One value, after the two FTS5 expressions of a text index for subject.
      expect(params).toHaveLength(field === "subject" ? 3 : 1);
      expect(String(params.at(-1)).toLowerCase()).toContain(hostile.toLowerCase());
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

  it("leaves the text indexes out when the store found every one dense", () => {
    expect(compileEventFilters({ subject: ["Hello"] }).sql).toContain("MATCH");
    expect(compileEventQuery({ subject: ["Hello"], from: ["alice"] }, { denseText: true })).toMatchObject({
      sql: `${LIKE} AND coalesce(e.from_header, '') LIKE ? ESCAPE '\\'`,
      params: ["%Hello%", "%alice%"],
    });
  });

  it("leaves the text index out, not the filter, when its two values would pass 90", () => {
    const terms = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(" OR ");
    const at88 = compileEventFilters({ subject: ["Hello"], tags: [terms(22, "t"), terms(22, "u")], event: [terms(22, "e"), terms(21, "f")] });
    expect(at88.params).toHaveLength(90);
    expect(at88.sql).toContain("events_text_subject MATCH");
    const at90 = compileEventFilters({ subject: ["Hello"], tags: [terms(23, "t"), terms(22, "u")], event: [terms(22, "e"), terms(22, "f")] });
    expect(at90.params).toHaveLength(90);
    expect(at90.sql).not.toContain("MATCH");
    expect(at90.params[0]).toBe("%Hello%");
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

describe("compileEventFilters: text indexes give exactly LIKE's rows", () => {
  const DOMAIN = `text-${crypto.randomUUID()}.test`;
  const T0 = 1_710_000_000_000_000;
  // Varied text: LIKE's metacharacters, quotes, Unicode case (LIKE folds ASCII only), emoji, CJK,
  // NULL columns, and words that share trigrams without containing each other.
  const subjects = [
    "Hello Ross",
    "hello RACHEL",
    "50% off_sale \\ today",
    "Élan école ÉCOLE",
    "Ünïcödé 🎉 party 🎉",
    "东京 大阪 东京湾",
    'He said "hi" it\'s fine',
    null,
    "",
    "sser oll",
    "Autumn sale 12: up to 30% off",
    "autumn SALE 120",
  ];
  const froms = ["Alice <alice@example.org>", null, "Bob Smith <b@x.example>", "Ålice <å@x.example>", "news@shop.example"];
  const tos = ["carol@example.org", "Dave <dave@example.org>", null, "émile@example.fr"];
  const rows = Array.from({ length: 60 }, (_, i) => ({
    id: `${DOMAIN}/t${i}`,
    ts: T0 + i,
    subject: subjects[i % subjects.length]!,
    from: froms[i % froms.length]!,
    to: tos[i % tos.length]!,
  }));

  beforeAll(async () => {
    await env.DB.batch(
      rows.map((row) =>
        env.DB.prepare(
          "INSERT INTO events (id, domain, ts, event, recipient, from_header, to_header, subject, body) VALUES (?, ?, ?, 'delivered', 'r@example.org', ?, ?, ?, '{}')",
        ).bind(row.id, DOMAIN, row.ts, row.from, row.to, row.subject),
      ),
    );
  });

  /** LIKE '%term%' as SQLite evaluates it: a substring, ASCII letters folded, other characters exact. */
  const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const contains = (text: string | null, term: string) => asciiLower(text ?? "").includes(asciiLower(term));
  function evaluate(node: FilterNode, text: string | null): boolean {
    switch (node.kind) {
      case "and":
        return node.items.every((item) => evaluate(item, text));
      case "or":
        return node.items.some((item) => evaluate(item, text));
      case "not":
        return !evaluate(node.item, text);
      case "term":
        return contains(text, node.value);
      case "compare":
        throw new Error("not a text filter");
    }
  }
  const columnOf = { subject: "subject", from: "from", to: "to" } as const;
  function expected(filters: Partial<Record<keyof typeof columnOf, string[]>>): string[] {
    return rows
      .filter((row) =>
        Object.entries(filters).every(([field, expressions]) =>
          expressions!.every((expression) => evaluate(parseFilterExpression(expression), row[columnOf[field as keyof typeof columnOf]])),
        ),
      )
      .map((row) => row.id);
  }
  async function matching(filters: Record<string, string[]>): Promise<string[]> {
    const { sql, params } = compileEventFilters(filters);
    const { results } = await env.DB.prepare(`SELECT id FROM events AS e WHERE e.domain = ? AND ${sql} ORDER BY e.ts`)
      .bind(DOMAIN, ...params)
      .all<{ id: string }>();
    return results.map((r) => r.id);
  }

  const cases: Array<Partial<Record<keyof typeof columnOf, string[]>>> = [
    { subject: ["Hello"] },
    { subject: ["hello ross"] },
    { subject: ['"o R"'] },
    { subject: ['"lo Ro"'] },
    { subject: ["ross"] },
    { subject: ["50%"] },
    { subject: ["%_o"] },
    { subject: ['"off_sale"'] },
    { subject: ['"f_s"'] },
    { subject: ["\\"] },
    { subject: ['"\\ to"'] },
    { subject: ["école"] },
    { subject: ["ÉCOLE"] },
    { subject: ["Élan"] },
    { subject: ["élan"] },
    { subject: ["🎉 party"] },
    { subject: ["🎉"] },
    { subject: ["东京湾"] },
    { subject: ["东京"] },
    { subject: ["it's"] },
    { subject: ["sale 12"] },
    { subject: ["sale 120"] },
    { subject: ["autumn AND NOT 120"] },
    { subject: ["NOT autumn"] },
    { subject: ["autumn OR ross"] },
    { subject: ["(autumn OR ross) AND sale"] },
    { subject: ["sser", "NOT ross"] },
    { subject: ["zzz-no-such"] },
    { subject: ["ab"] },
    { from: ["alice"] },
    { from: ["ålice"] },
    { from: ["ÅLICE"] },
    { from: ["NOT example"] },
    { to: ["example.org"] },
    { to: ["ÉMILE"] },
    { subject: ["hello"], from: ["alice"], to: ["carol"] },
    { subject: ["autumn"], to: ["NOT dave"] },
  ];
  for (const filters of cases) {
    it(`${JSON.stringify(filters)}`, async () => {
      expect(await matching(filters)).toEqual(expected(filters));
    });
  }

  it("looks a required term up in the index (the plan reads the FTS5 table), and a short one not", async () => {
    const plan = async (filters: Record<string, string[]>) => {
      const { sql, params } = compileEventFilters(filters);
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN SELECT id FROM events AS e WHERE e.domain = ? AND ${sql}`)
        .bind(DOMAIN, ...params)
        .all<{ detail: string }>();
      return results.map((r) => r.detail).join("\n");
    };
    expect(await plan({ subject: ["Hello"] })).toMatch(/SCAN events_text_subject VIRTUAL TABLE/);
    expect(await plan({ from: ["alice"] })).toMatch(/SCAN events_text_from VIRTUAL TABLE/);
    expect(await plan({ to: ["carol"] })).toMatch(/SCAN events_text_to VIRTUAL TABLE/);
    expect(await plan({ subject: ["He"] })).not.toMatch(/VIRTUAL TABLE/);
  });

  it("keeps the indexes in step with inserts and deletes of events (FTS5's own integrity check against the table)", async () => {
    const id = `${DOMAIN}/gone`;
    await env.DB.prepare(
      "INSERT INTO events (id, domain, ts, event, recipient, from_header, to_header, subject, body) VALUES (?, ?, ?, 'delivered', 'r@example.org', 'Quokka <q@x.example>', 'wombat@x.example', 'Platypus parade', '{}')",
    )
      .bind(id, DOMAIN, T0 + 1000)
      .run();
    const found = async (table: string, match: string) =>
      (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${table} MATCH ?`).bind(match).first<{ n: number }>())!.n;
    expect(await found("events_text_subject", '"typ" AND "par"')).toBe(1);
    expect(await found("events_text_from", '"quo" AND "kka"')).toBe(1);
    expect(await found("events_text_to", '"wom" AND "bat"')).toBe(1);
    await env.DB.prepare("DELETE FROM events WHERE id = ?").bind(id).run();
    expect(await found("events_text_subject", '"typ" AND "par"')).toBe(0);
    expect(await found("events_text_from", '"quo" AND "kka"')).toBe(0);
    expect(await found("events_text_to", '"wom" AND "bat"')).toBe(0);
    for (const table of ["events_text_subject", "events_text_from", "events_text_to"]) {
      // rank 1: compare the index with the rows of `events` it was built from (throws on a difference).
      await env.DB.prepare(`INSERT INTO ${table} (${table}, rank) VALUES ('integrity-check', 1)`).run();
    }
  });

  it("past TEXT_INDEX_MAX_MATCHES matches in the database, the LIKE walk alone decides, with the same rows", async () => {
    const dense = `dense-${crypto.randomUUID()}.test`;
    const word = `Word${crypto.randomUUID().slice(0, 8)}`;
    // Rows whose number ends in 7 say "not" after the word: NOT picks exactly those out.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO events (id, domain, ts, event, recipient, subject, body)
       SELECT ?2 || '/' || i, ?2, ?3 + i, 'delivered', 'r@example.org', ?4 || CASE WHEN i % 10 = 7 THEN ' not' ELSE '' END, '{}' FROM n`,
    )
      .bind(TEXT_INDEX_MAX_MATCHES, dense, T0, word)
      .run();
    const count = async (filters: Record<string, string[]>) => {
      const { sql, params } = compileEventFilters(filters);
      return (await env.DB.prepare(`SELECT count(*) AS n FROM events AS e WHERE e.domain = ? AND ${sql}`)
        .bind(dense, ...params)
        .first<{ n: number }>())!.n;
    };
    expect(await count({ subject: [word] })).toBe(TEXT_INDEX_MAX_MATCHES + 1);
    expect(await count({ subject: [word.toUpperCase()] })).toBe(TEXT_INDEX_MAX_MATCHES + 1);
    const nots = Array.from({ length: TEXT_INDEX_MAX_MATCHES + 1 }, (_, i) => i).filter((i) => i % 10 === 7).length;
    expect(await count({ subject: [`"${word} not"`] })).toBe(nots);
    expect(await count({ subject: [`${word} AND NOT not`] })).toBe(TEXT_INDEX_MAX_MATCHES + 1 - nots);
  });
});
