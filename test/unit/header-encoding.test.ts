// The header encoder and folder of sent mail (src/domain/header-encoding.ts), over seeded random
// input: every line within 998 characters, within 78 wherever a fold point exists, no line break
// but folds, and the value read back exactly by postal-mime (unfolding, then RFC 2047 / RFC 2231
// decoding, as a mail client does).
import PostalMime, { addressParser, decodeWords } from "postal-mime";
import { describe, expect, it } from "vitest";
import { mailboxEntry } from "../../src/domain/addresses";
import { formatHeader, formatParameterHeader, spacedJson } from "../../src/domain/header-encoding";
import { MAX_LINE_LENGTH, PREFERRED_LINE_LENGTH } from "../../src/domain/header-folding";
import { buildMime } from "../../src/domain/mime";
import { pick, seededRandom } from "../support/prng";

type Random = () => number;
const between = (random: Random, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

const ASCII_WORDS = [
  "sale",
  "Re:",
  "a",
  "=?",
  "?=",
  "=?UTF-8?B?SGk=?=",
  "=?utf-8?q?x_y?=",
  "_",
  "=",
  "?",
  '"q"',
  "\\",
  "(c)",
  "a,b",
  "<x@y.z>",
  "x@y.z",
  ";",
  ":",
  "%recipient.x%",
];
const UNICODE = ["é", "ß", "Ünï", "日本語", "☃", "😀", "e\u0301", "\u00a0", "Привет", "中", "\u200b", "𝔘"];
const CONTROLS = ["\x01", "\x7f", "\x1b", "\x0b", "\x0c"];

/** A header value without CR, LF or NUL: words, unusual whitespace, non-ASCII, look-alike encoded-words, huge tokens. */
function randomValue(random: Random): string {
  const parts: string[] = [];
  const count = between(random, 0, random() < 0.2 ? 300 : 25);
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < 0.4) parts.push(pick(random, ASCII_WORDS) + (random() < 0.3 ? String(i) : ""));
    else if (roll < 0.6) parts.push(pick(random, UNICODE));
    else if (roll < 0.63) parts.push(pick(random, CONTROLS));
    else if (roll < 0.66) parts.push(pick(random, ["x", "é", "ab"]).repeat(between(random, 100, 2500)));
    else if (roll < 0.9) parts.push(" ");
    else if (roll < 0.95) parts.push("\t");
    else parts.push(" ".repeat(between(random, 2, random() < 0.2 ? 1500 : 40)));
  }
  return parts.join(random() < 0.5 ? "" : " ");
}

function randomName(random: Random): string {
  const names = ["Subject", "X-Custom", "Comments", "X-Mailgun-Variables", "Keywords", `X-${"N".repeat(between(random, 1, 74))}`];
  return pick(random, names);
}

/** The structural checks every folded field must pass; returns its lines. */
function checkLines(name: string, folded: string): string[] {
  const lines = folded.split("\r\n");
  expect(folded).not.toMatch(/\r(?!\n)|(?<!\r)\n|\0/);
  expect(lines[0]!.startsWith(`${name}:`)).toBe(true);
  for (const [i, line] of lines.entries()) {
    expect(line.length, line).toBeLessThanOrEqual(MAX_LINE_LENGTH);
    // A continuation starts with whitespace and holds more than whitespace (RFC 5322 3.2.2).
    if (i > 0) expect(line, folded).toMatch(/^[ \t]+[^ \t]/);
    if (line.length > PREFERRED_LINE_LENGTH) {
      // Only a line holding one unbreakable token may be longer, and only when moving that token
      // to a line of its own would not have made it short.
      const piece = i === 0 ? line.slice(name.length + 1) : line;
      expect(piece, `line ${i} of ${folded}`).toMatch(/^[ \t]+[^ \t]+$/);
      expect(piece.length, `line ${i} of ${folded}`).toBeGreaterThan(PREFERRED_LINE_LENGTH);
    }
  }
  return lines;
}

/** The raw (unfolded) value of one field, as postal-mime reads it in a whole message. */
async function readBack(folded: string, name: string): Promise<string> {
  const parsed = await PostalMime.parse(`${folded}\r\nContent-Type: text/plain\r\n\r\nbody\r\n`);
  return parsed.headers.find((h) => h.key === name.toLowerCase())?.value ?? "";
}

const trimWsp = (text: string) => text.replace(/^[ \t]+|[ \t]+$/g, "");

describe("formatHeader: unstructured text", () => {
  it("folds and encodes 600 random values so that they read back exactly", async () => {
    const random = seededRandom(11);
    for (let n = 0; n < 600; n++) {
      const name = randomName(random);
      const value = randomValue(random);
      const folded = formatHeader(name, value);
      checkLines(name, folded);
      expect(decodeWords(await readBack(folded, name)), `seed 11 case ${n}: ${JSON.stringify(value)}`).toBe(trimWsp(value));
    }
  });

  it("keeps plain words plain and encodes only the runs that need it", () => {
    expect(formatHeader("Subject", "Re: Grüße aus Köln - order 42")).toBe("Subject: Re: =?UTF-8?B?R3LDvMOfZQ==?= aus =?UTF-8?B?S8O2bG4=?= - order 42");
    // Q when it is shorter: mostly ASCII.
    expect(formatHeader("Subject", "Ärzteverbandstagung 2026")).toBe("Subject: =?UTF-8?Q?=C3=84rzteverbandstagung?= 2026");
    expect(formatHeader("Subject", "日本語")).toBe("Subject: =?UTF-8?B?5pel5pys6Kqe?=");
    // Text that a decoder would take for an encoded-word is encoded itself.
    expect(formatHeader("Subject", "=?UTF-8?B?SGk=?=")).toMatch(/^Subject: =\?UTF-8\?[QB]\?[^?]+\?=$/);
    expect(formatHeader("Subject", "")).toBe("Subject:");
  });

  it("folds a long subject at its spaces, every line within 78 characters", () => {
    const subject = Array.from({ length: 120 }, (_, i) => `word${i}`).join(" ");
    const lines = checkLines("Subject", formatHeader("Subject", subject));
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.length <= PREFERRED_LINE_LENGTH)).toBe(true);
    expect(lines.join("").slice("Subject: ".length)).toBe(subject.replace(/ /g, " "));
  });

  it("puts a token too long for any line into encoded-words instead of a 998+ line", async () => {
    const token = "x".repeat(5000);
    const folded = formatHeader("X-Blob", `start ${token} end`);
    const lines = checkLines("X-Blob", folded);
    expect(lines[0]).toMatch(/^X-Blob: start =\?UTF-8\?Q\?x+\?=$/);
    expect(lines.at(-1)).toMatch(/^ =\?UTF-8\?Q\?x+\?= end$/);
    expect(lines.every((l) => l.length <= PREFERRED_LINE_LENGTH)).toBe(true);
    expect(decodeWords(await readBack(folded, "X-Blob"))).toBe(`start ${token} end`);
  });

  it("never lets CR, LF or NUL through, even when a caller passes them", () => {
    const folded = formatHeader("Subject", "a\r\nX-Injected: 1\rb\nc\0d");
    expect(folded).toBe("Subject: a  X-Injected: 1 b c d");
    expect(formatHeader("X-Bad\r\nName", "v")).toBe("X-BadName: v");
  });

  it("splits an over-long URL in List-Unsubscribe inside its angle brackets (RFC 2369), not into encoded-words", () => {
    const url = `<https://email.example.com/u/${"A".repeat(1500)}>`;
    const lines = checkLines("List-Unsubscribe", formatHeader("List-Unsubscribe", url));
    expect(lines.every((l) => l.length <= PREFERRED_LINE_LENGTH)).toBe(true);
    expect(
      lines
        .join("")
        .replace(/^List-Unsubscribe:/, "")
        .replace(/[ \t]/g, ""),
    ).toBe(url);
    // An ordinary one stays on one line, however long.
    const short = `<https://email.example.com/u/${"A".repeat(300)}>`;
    expect(formatHeader("List-Unsubscribe", short)).toBe(`List-Unsubscribe: ${short}`);
  });
});

/** A display name: printable ASCII with specials, quotes and backslashes, non-ASCII, long ones. */
function randomDisplayName(random: Random): string {
  const pieces = [
    "Bob",
    "Doe, Jane",
    'The "Boss"',
    "a\\b",
    "Zoë",
    "日本",
    "=?x?=",
    "O'Neil",
    "Dr. Who",
    "(home)",
    "Ünïcödé Ñame",
    "x".repeat(between(random, 50, 300)),
    "😀",
  ];
  const words = Array.from({ length: between(random, 0, 4) }, () => pick(random, pieces));
  return words.join(" ");
}

describe("formatHeader: address lists", () => {
  it("encodes 400 random display names and never the addresses, read back exactly by an address parser", async () => {
    const random = seededRandom(22);
    for (let n = 0; n < 400; n++) {
      const name = pick(random, ["From", "To", "Cc", "Reply-To"]);
      const boxes = Array.from({ length: between(random, 1, random() < 0.1 ? 60 : 4) }, (_, i) => ({
        name: randomDisplayName(random),
        address: `user.${i}+tag${n}@mail-${i}.example.org`,
      }));
      const folded = formatHeader(name, boxes.map((b) => mailboxEntry(b.name, b.address)).join(", "));
      checkLines(name, folded);
      const parsed = addressParser(await readBack(folded, name)).map((a) => ({ name: a.name, address: a.address }));
      expect(parsed, `seed 22 case ${n}: ${folded}`).toEqual(boxes);
    }
  });

  it("writes names as atoms, a quoted string or encoded-words, as each needs", () => {
    expect(formatHeader("From", "Bob Smith <bob@x.org>")).toBe("From: Bob Smith <bob@x.org>");
    expect(formatHeader("From", '"Doe, Jane" <jane@x.org>')).toBe('From: "Doe, Jane" <jane@x.org>');
    expect(formatHeader("From", "Zoë <zoe@x.org>")).toBe("From: =?UTF-8?Q?Zo=C3=AB?= <zoe@x.org>");
    expect(formatHeader("To", "a@x.org, <b@x.org>")).toBe("To: a@x.org, b@x.org");
  });

  it("folds a thousand addresses between entries", () => {
    const value = Array.from({ length: 1000 }, (_, i) => `recipient${i}@example.org`).join(", ");
    const lines = checkLines("To", formatHeader("To", value));
    expect(lines.every((l) => l.length <= PREFERRED_LINE_LENGTH)).toBe(true);
    expect(lines.join("").slice("To: ".length)).toBe(value);
  });

  it("treats an address field that holds no address list as text", async () => {
    const folded = formatHeader("Reply-To", "not an address, Zoë");
    expect(decodeWords(await readBack(folded, "Reply-To"))).toBe("not an address, Zoë");
  });
});

describe("formatParameterHeader and attachments", () => {
  it("sends 300 random file names that mail parsers read back exactly", async () => {
    const random = seededRandom(33);
    const files = Array.from({ length: 300 }, (_, n) => {
      const base = Array.from({ length: between(random, 1, 6) }, () =>
        pick(random, [
          "report",
          "Grüße",
          "a b",
          'q"uote',
          "semi;colon",
          "back\\slash",
          "日本語",
          "😀",
          "%41",
          "'",
          "*",
          "=?x?=",
          "n".repeat(between(random, 40, 120)),
        ]),
      ).join(random() < 0.5 ? " " : "");
      return `${base}.${n}.pdf`;
    });
    for (let at = 0; at < files.length; at += 30) {
      const batch = files.slice(at, at + 30);
      const mime = buildMime({
        headers: [["Subject", "files"]],
        text: "see attached",
        attachments: batch.map((filename) => ({ filename, contentType: "application/pdf", content: new Uint8Array([1, 2, 3]), inline: false })),
      });
      for (const line of mime.split("\r\n")) expect(line.length, line).toBeLessThanOrEqual(PREFERRED_LINE_LENGTH);
      const parsed = await PostalMime.parse(mime);
      expect(parsed.attachments.map((a) => a.filename)).toEqual(batch);
    }
  });

  it("keeps a short ASCII name quoted and continues others per RFC 2231", () => {
    expect(formatParameterHeader("Content-Disposition", "attachment", [["filename", "report.csv"]])).toBe(
      'Content-Disposition: attachment; filename="report.csv"',
    );
    expect(formatParameterHeader("Content-Disposition", "attachment", [["filename", "é.txt"]])).toBe(
      "Content-Disposition: attachment; filename*0*=utf-8''%C3%A9.txt",
    );
    const long = formatParameterHeader("Content-Disposition", "attachment", [["filename", `${"é".repeat(30)}.txt`]]);
    expect(long.split("\r\n")).toEqual([
      "Content-Disposition: attachment;",
      ` filename*0*=utf-8''${"%C3%A9".repeat(8)};`,
      ` filename*1*=${"%C3%A9".repeat(8)};`,
      ` filename*2*=${"%C3%A9".repeat(8)};`,
      ` filename*3*=${"%C3%A9".repeat(6)}.txt`,
    ]);
  });

  it("passes on only a well-formed media type and its charset", async () => {
    const mime = buildMime({
      headers: [],
      text: "t",
      attachments: [
        { filename: "a.csv", contentType: "text/csv", content: new Uint8Array([65]), inline: false },
        { filename: "b.bin", contentType: 'text/plain; boundary="x', content: new Uint8Array([66]), inline: false },
        { filename: "c.csv", contentType: 'Text/CSV; charset="utf-8"; x=1', content: new Uint8Array([67]), inline: false },
        { filename: "d.bin", contentType: "not a type", content: new Uint8Array([68]), inline: false },
      ],
    });
    expect(mime).toContain('Content-Type: text/csv; charset="utf-8"; name="c.csv"');
    const parsed = await PostalMime.parse(mime);
    expect(parsed.attachments.map((a) => [a.filename, a.mimeType])).toEqual([
      ["a.csv", "text/csv"],
      ["b.bin", "text/plain"],
      ["c.csv", "text/csv"],
      ["d.bin", "application/octet-stream"],
    ]);
  });
});

describe("spacedJson", () => {
  it("writes JSON as Mailgun does, with spaces to fold at, that parses to the same value", () => {
    const value = { a: 1, "b, c": ["x: y", { d: null }], e: "line\nbreak", f: {}, g: [] };
    expect(spacedJson(value)).toBe('{"a": 1, "b, c": ["x: y", {"d": null}], "e": "line\\nbreak", "f": {}, "g": []}');
    expect(JSON.parse(spacedJson(value))).toEqual(value);
  });
});
