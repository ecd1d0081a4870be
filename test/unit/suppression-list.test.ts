// Pure pieces of the Suppressions API: list query parsing, paging links, the streaming CSV reader.
import { describe, expect, it } from "vitest";
import { CsvReader } from "../../src/domain/csv";
import { parseSuppressionListQuery, suppressionPaging } from "../../src/domain/suppression-list";

const parse = (query: string) => parseSuppressionListQuery(new URLSearchParams(query));

describe("parseSuppressionListQuery", () => {
  it("defaults, aliases and limits", () => {
    expect(parse("")).toEqual({ page: "first", limit: 100 });
    expect(parse("page=prev&address=B%40x.org&limit=5&term=Ab")).toEqual({ page: "previous", limit: 5, address: "b@x.org", term: "ab" });
    expect(parse("page=next")).toEqual({ page: "first", limit: 100 });
    expect(parse("page=previous")).toEqual({ page: "last", limit: 100 });
    expect(parse("page=first&address=a%40x.org")).toEqual({ page: "first", limit: 100 });
    expect(parse("limit=1000")).toMatchObject({ limit: 1000 });
    expect(parse("limit=1001")).toBe("'limit' must be an integer from 1 to 1000");
    expect(parse("limit=0")).toBeTypeOf("string");
    expect(parse("page=up")).toBe("'page' must be first, next, previous or last");
  });
});

describe("suppressionPaging", () => {
  const base = "https://h/v3/d.com/bounces";
  it("anchors next and previous on the page's ends, keeps term", () => {
    const paging = suppressionPaging(base, { page: "first", limit: 2, term: "a" }, ["a+1@x.org", "a2@x.org"]);
    expect(paging).toEqual({
      first: `${base}?page=first&limit=2&term=a`,
      next: `${base}?page=next&address=a2%40x.org&limit=2&term=a`,
      previous: `${base}?page=previous&address=a%2B1%40x.org&limit=2&term=a`,
      last: `${base}?page=last&limit=2&term=a`,
    });
    expect(new URL(paging.previous).searchParams.get("address")).toBe("a+1@x.org");
  });
  it("keeps the boundary on an empty page", () => {
    const paging = suppressionPaging(base, { page: "next", limit: 2, address: "z@x.org" }, []);
    expect(paging.next).toBe(`${base}?page=next&address=z%40x.org&limit=2`);
    expect(paging.previous).toBe(`${base}?page=previous&address=z%40x.org&limit=2`);
    expect(suppressionPaging(base, { page: "first", limit: 2 }, []).next).toBe(`${base}?page=first&limit=2`);
  });
});

describe("CsvReader", () => {
  const readAll = (chunks: string[]) => {
    const reader = new CsvReader();
    return [...chunks.flatMap((chunk) => reader.push(chunk)), ...reader.end()];
  };
  it("reads quoted fields, doubled quotes and line breaks across chunks", () => {
    const text = 'a,b\r\n"x, y","say ""hi"""\n\n"multi\nline",z';
    const whole = readAll([text]);
    expect(whole).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["x, y", 'say "hi"'] },
      { line: 4, fields: ["multi\nline", "z"] },
    ]);
    expect(readAll(text.split(""))).toEqual(whole);
  });
  it("flags a file that ends inside quotes", () => {
    expect(readAll(['a\n"open,b'])).toEqual([
      { line: 1, fields: ["a"] },
      { line: 2, fields: ["open,b"], unterminated: true },
    ]);
  });
});
