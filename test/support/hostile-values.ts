// The values of the bad-input suite (test/integration/hostile-input.test.ts, bench/hostile.bench.ts):
// the seeded PRNG of test/support/prng.ts and families of hostile strings, numbers, dates, JSON and bodies. Pure (no
// Node, no bindings), so the same cases run in a test and in the benchmark.

import { pick } from "./prng";

export { pick, seededRandom } from "./prng";

export type Random = () => number;

/** Up to `n` items of `items`, in a random order (all of them when n >= length). */
export function sample<T>(random: Random, items: readonly T[], n: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

/**
 * One hostile value; `raw` values go into a URL as they are (invalid percent escapes), others are
 * encoded. `core` values (the ones issue 11 names) go to every parameter of their kind; the others
 * are sampled.
 */
export interface Hostile {
  name: string;
  value: string;
  raw?: boolean;
  core?: boolean;
}

const NON_ASCII = ["é", "ß", "€", "中", "𝄞", "😀", "ф", "ا"];
/** n non-ASCII characters: a random run of up to 100, repeated (long values are cheap to make). */
function repeatChars(random: Random, n: number): string {
  const run = Array.from({ length: Math.min(n, 100) }, () => pick(random, NON_ASCII)).join("");
  return [...run.repeat(Math.ceil(n / Math.min(n, 100)))].slice(0, n).join("");
}
/** JSON nested `depth` levels deep: `[[[...]]]`. */
export const deepJsonArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
/** `{"a":{"a":...}}` nested `depth` levels deep. */
export const deepJsonObject = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

export const PROTOTYPE_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"] as const;
export const prototypeValues = (): Hostile[] => PROTOTYPE_NAMES.map((name) => ({ name: `prototype name ${name}`, value: name }));

/** Over-long, control characters, markup, traversal, encodings: for any string parameter. */
export function stringValues(random: Random): Hostile[] {
  return [
    { name: "321 ASCII characters", value: "a".repeat(321) },
    { name: "1,001 ASCII characters", value: "b".repeat(1001) },
    { name: "100,000 ASCII characters", value: "c".repeat(100_000) },
    { name: "200 non-ASCII characters", value: repeatChars(random, 200) },
    { name: "1,500 non-ASCII characters", value: repeatChars(random, 1500) },
    { name: "100,000 non-ASCII characters", value: repeatChars(random, 100_000) },
    { name: "CR LF and a header", value: "x\r\nX-Injected: yes" },
    { name: "LF", value: "x\ny" },
    { name: "NUL", value: "a\u0000b" },
    { name: "entity &#10;", value: "a&#10;b" },
    { name: "entity &#13;&#10;", value: "a&#13;&#10;X-Injected: yes" },
    { name: "entity &#0;", value: "a&#0;b" },
    { name: "U+2028 and U+FEFF", value: "a\u2028b\ufeff" },
    { name: "lone surrogate", value: "a\ud800b" },
    { name: "empty", value: "" },
    { name: "spaces", value: "   " },
    { name: "markup", value: '"><script>alert(1)</script><img src=x onerror=alert(1)>' },
    { name: "traversal ../", value: "../../../etc/passwd" },
    { name: "double slash host", value: "//evil.example/x" },
    { name: "absolute URL", value: "https://evil.example/" },
    { name: "javascript: URL", value: "javascript:alert(1)" },
    { name: "backslashes", value: "\\\\evil.example\\x" },
    { name: "percent signs", value: "100% %zz %" },
    { name: "SQL", value: "' OR 1=1; DROP TABLE events; --" },
    { name: "LIKE wildcards", value: "%_%\\" },
    { name: "glob and regex", value: "*[(?.+$^" },
    { name: "JSON text", value: '{"__proto__":{"polluted":true}}' },
    { name: "deep JSON text", value: deepJsonArray(100_000) },
    ...prototypeValues(),
  ];
}

/** Invalid percent escapes, sent as they are in a path or a query. */
export const rawPathValues = (): Hostile[] => [
  { name: "lone %", value: "%", raw: true },
  { name: "%zz", value: "a%zzb", raw: true },
  { name: "invalid UTF-8 %FF%FE", value: "%FF%FE", raw: true },
  { name: "overlong %C0%AF", value: "%C0%AF..%C0%AF", raw: true },
  { name: "encoded surrogate %ED%A0%80", value: "%ED%A0%80", raw: true },
  { name: "encoded NUL %00", value: "a%00b", raw: true },
  { name: "encoded traversal ..%2F", value: "..%2F..%2F..%2Fetc", raw: true },
];

/** For parameters that name a page to go back to: ways out of /app and off the host. */
export const pathValues = (): Hostile[] => [
  { name: "/app/..//evil.example/x", value: "/app/..//evil.example/x", core: true },
  { name: "/app/%2e%2e//evil.example/x", value: "/app/%2e%2e//evil.example/x", core: true },
  { name: "/app/..%2f..%2f/evil.example", value: "/app/..%2f..%2f/evil.example" },
  { name: "/app/../../evil", value: "/app/../../evil" },
  { name: "//evil.example/x", value: "//evil.example/x" },
  { name: "/\\evil.example/x", value: "/\\evil.example/x" },
  { name: "/app/\\..\\..\\evil.example", value: "/app/\\..\\..\\evil.example" },
  { name: "https://evil.example/app/", value: "https://evil.example/app/" },
  { name: "/app/ with CR LF", value: "/app/\r\nLocation: https://evil.example/" },
  { name: "/app/ with a tab and spaces", value: "/app/\t /\t/evil.example" },
];

/** For numeric parameters (limits, skips, codes, days, pages). */
export const numberValues = (): Hostile[] => [
  { name: "1e20", value: "1e20", core: true },
  { name: "2^63-1", value: "9223372036854775807", core: true },
  { name: "2^53+1", value: "9007199254740993" },
  { name: "-1", value: "-1", core: true },
  { name: "-0", value: "-0" },
  { name: "NaN", value: "NaN", core: true },
  { name: "Infinity", value: "Infinity" },
  { name: "0x10", value: "0x10", core: true },
  { name: "1.5", value: "1.5" },
  { name: "1e-400", value: "1e-400" },
  { name: "0", value: "0" },
  { name: "leading zeros", value: "0000000000000000000000001" },
  { name: "plus sign", value: "+5" },
];

/** For date parameters: out of range (years 100 to 6000), malformed, enormous. */
export const dateValues = (): Hostile[] => [
  { name: "year 100 RFC 2822", value: "Fri, 01 Jan 0100 00:00:00 +0000", core: true },
  { name: "year 6000 RFC 2822", value: "Mon, 01 Jan 6000 00:00:00 +0000", core: true },
  { name: "year 100 epoch", value: "-58979923200" },
  { name: "year 6000 epoch", value: "127180281600" },
  { name: "epoch 1e20", value: "1e20", core: true },
  { name: "epoch -1", value: "-1" },
  { name: "year 100 ISO", value: "0100-01-01T00:00" },
  { name: "year 6000 ISO", value: "6000-12-31T23:59" },
  { name: "not a date", value: "yesterday-ish" },
  { name: "NaN", value: "NaN", core: true },
  { name: "month 13", value: "Thu, 32 Foo 2026 25:61:61 +9999" },
];

/** For address parameters: the limits of RFC 5321 and the field encoder. */
export function addressValues(random: Random): Hostile[] {
  return [
    { name: "300-character local part", value: `${"l".repeat(300)}@example.org`, core: true },
    { name: "200 non-ASCII characters", value: `${repeatChars(random, 200)}@example.org`, core: true },
    { name: "321 characters", value: `${"a".repeat(309)}@example.org` },
    { name: "1,000-character domain", value: `x@${"d".repeat(996)}.org` },
    { name: "CR LF in display name", value: '"Eve\r\nX-Injected: yes" <eve@example.org>', core: true },
    { name: "LF in display name", value: "Eve\nBcc: victim@example.org <eve@example.org>" },
    { name: "NUL in address", value: "e\u0000ve@example.org" },
    { name: "200 non-ASCII display name", value: `${repeatChars(random, 200)} <eve@example.org>` },
    { name: "quoted local part", value: '"very.(),:;<>[]\\".VERY"@example.org' },
    { name: "two @", value: "a@b@example.org" },
    { name: "no domain", value: "eve@" },
    { name: "angle brackets only", value: "<>" },
    { name: "1,000 recipients", value: Array.from({ length: 1000 }, (_, i) => `r${i}@example.org`).join(", "), core: true },
    { name: "1,001 recipients", value: Array.from({ length: 1001 }, (_, i) => `r${i}@example.org`).join(",") },
  ];
}

/** Malformed or hostile JSON texts for a JSON body or a JSON-carrying field. */
export const jsonTexts = (): Hostile[] => [
  { name: "100,000 nested arrays", value: deepJsonArray(100_000), core: true },
  { name: "100,000 nested objects", value: deepJsonObject(100_000), core: true },
  { name: "truncated", value: '{"a": [1, 2' },
  { name: "trailing comma", value: '{"a": 1,}' },
  { name: "not an object", value: '"just a string"' },
  { name: "null", value: "null" },
  { name: "array", value: "[1, 2, 3]" },
  { name: "number 1e400", value: "1e400" },
  { name: "__proto__ key", value: '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}' },
  { name: "1,000-item array", value: JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ n: i }))) },
  { name: "invalid UTF-16 escape", value: '{"a": "\\ud800"}' },
  { name: "BOM", value: '\ufeff{"a": 1}' },
  { name: "empty", value: "" },
];

const BASE64URL = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"];
/** n base64url characters: a random run of up to 64, repeated. */
export function base64urlJunk(random: Random, n: number): string {
  const run = Array.from({ length: Math.min(n, 64) }, () => pick(random, BASE64URL)).join("");
  return run.repeat(Math.ceil(n / run.length)).slice(0, n);
}

/** Tokens (tracking links, page tokens, message keys): truncated, flipped, oversized, foreign. */
export function tokenValues(random: Random, valid: string): Hostile[] {
  const flipAt = Math.floor(random() * valid.length);
  const flipped = valid.slice(0, flipAt) + (valid[flipAt] === "A" ? "B" : "A") + valid.slice(flipAt + 1);
  return [
    { name: "one character changed", value: flipped, core: true },
    { name: "truncated", value: valid.slice(0, Math.max(1, Math.floor(valid.length / 2))) },
    { name: "one character more", value: `${valid}A` },
    { name: "padding", value: `${valid}==` },
    { name: "4,097 base64url characters", value: base64urlJunk(random, 4097), core: true },
    { name: "100,000 base64url characters", value: base64urlJunk(random, 100_000) },
    { name: "random 40 characters", value: base64urlJunk(random, 40) },
    { name: "single character", value: "A" },
    { name: "not base64url", value: "!!!***+/=" },
  ];
}

export interface Part {
  name: string;
  value: string;
  filename?: string;
  type?: string;
}

/** A multipart/form-data body written out by hand (so that malformed ones can be too). */
export function multipart(parts: Part[], boundary = "HostileBoundary7MA4YWxkTrZu0gW"): { type: string; body: string } {
  const chunks = parts.map((p) => {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ""}`;
    return `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ""}\r\n${p.value}\r\n`;
  });
  return { type: `multipart/form-data; boundary=${boundary}`, body: `${chunks.join("")}--${boundary}--\r\n` };
}

let manyParts: { type: string; body: string } | undefined;
let manyFields: string | undefined;

/** Form bodies that no parser should accept whole. */
export function malformedForms(fields: Part[]): Array<{ name: string; type: string; body: string }> {
  const good = multipart(fields);
  manyParts ??= multipart(Array.from({ length: 1000 }, (_, i) => ({ name: `f${i}`, value: "x" })));
  manyFields ??= Array.from({ length: 100_000 }, (_, i) => `k${i}=v`).join("&");
  return [
    { name: "multipart without its boundary parameter", type: "multipart/form-data", body: good.body },
    { name: "multipart with another boundary", type: "multipart/form-data; boundary=Other", body: good.body },
    { name: "multipart cut off", type: good.type, body: good.body.slice(0, Math.floor(good.body.length / 2)) },
    {
      name: "multipart part without a name",
      type: good.type,
      body: `--HostileBoundary7MA4YWxkTrZu0gW\r\nContent-Disposition: form-data\r\n\r\nx\r\n--HostileBoundary7MA4YWxkTrZu0gW--\r\n`,
    },
    { name: "multipart with 1,000 parts", type: manyParts.type, body: manyParts.body },
    { name: "urlencoded with bad escapes", type: "application/x-www-form-urlencoded", body: "a=%zz&b=%&%FF=%FE&=&&==" },
    { name: "urlencoded 100,000 fields", type: "application/x-www-form-urlencoded", body: manyFields },
    { name: "JSON under a form type", type: "application/x-www-form-urlencoded", body: '{"a": 1}' },
    { name: "text/plain", type: "text/plain", body: "hello" },
    { name: "application/xml", type: "application/xml", body: "<a><b/></a>" },
    { name: "binary octets", type: "application/octet-stream", body: "\u0000\u0001\u00ff\ufffd" },
  ];
}

/** CSV files for the suppression imports. */
export function csvTexts(random: Random): Hostile[] {
  return [
    { name: "unbalanced quote", value: 'address,code\n"a@example.org,550\n' },
    { name: "10,000 columns", value: `${Array.from({ length: 10_000 }, (_, i) => `c${i}`).join(",")}\nx\n` },
    { name: "NUL bytes", value: "address\na\u0000b@example.org\n" },
    { name: "BOM and CR only", value: "\ufeffaddress\rfirst@example.org\rsecond@example.org\r" },
    { name: "321-character address", value: `address\n${"a".repeat(309)}@example.org\n` },
    { name: "200 non-ASCII address", value: `address\n${repeatChars(random, 200)}@example.org\n` },
    { name: "prototype names as headers", value: "constructor,__proto__,toString\n1,2,3\n" },
    { name: "no header", value: "a@example.org\n" },
    { name: "empty", value: "" },
    { name: "2,000 rows", value: `address,tags\n${Array.from({ length: 2000 }, (_, i) => `row${i}@example.org,"[""a"",""b""]"`).join("\n")}\n` },
    { name: "created_at year 100 and 6000", value: "address,created_at\nold@example.org,Fri, 01 Jan 0100 00:00:00 +0000\nnew@example.org,6000-01-01\n" },
  ];
}
