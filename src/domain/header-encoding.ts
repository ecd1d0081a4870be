// Header fields as they are written into sent mail (RFC 5322): text that is not printable ASCII
// goes into RFC 2047 encoded-words (UTF-8, Q or B, whichever is shorter), file names into RFC 2231
// parameter continuations, and every field is folded so that its lines keep to 78 characters
// wherever a fold point exists and never pass 998 (RFC 5322 2.1.1). Pure: text in, text out.
// Values must hold no CR, LF or NUL (src/domain/header-values.ts; the API refuses them): any that
// slip through become spaces here, so no value can ever start a header line of its own.
import { splitAddressList } from "./addresses";
import { FoldedLines, PREFERRED_LINE_LENGTH } from "./header-folding";

/**
 * Longest word, and longest whitespace run, sent as they are. Longer ones cannot be folded, so
 * they go into encoded-words, which can: with a header name of at most 76 characters a line then
 * never passes 76 + 2 + 900 or 16 + 900 characters, both under 998. Unit: characters.
 */
const MAX_PLAIN_WORD = 900;
const MAX_PLAIN_SPACE = 16;
/** A quoted display name or file name longer than this is encoded instead, so it can fold. Unit: characters. */
const MAX_QUOTED = 60;
/** Characters of a percent-encoded RFC 2231 section, so `filename*NN*=` and it fit on one line. */
const PARAMETER_SECTION = 50;

const encoder = new TextEncoder();

/** Fields whose values are address lists: only their display names are ever encoded. */
const ADDRESS_FIELDS = new Set(["from", "to", "cc", "bcc", "reply-to", "sender"]);
/** RFC 2369 fields (angle-bracketed URLs): whitespace inside the brackets is ignored, so a URL too long for one line is split there. */
const URL_LIST_FIELDS = new Set(["list-unsubscribe", "list-subscribe", "list-help", "list-post", "list-owner", "list-archive"]);

/** Words that cannot go out as they are: not printable ASCII, too long to fold, or readable as an encoded-word. */
function needsEncoding(word: string): boolean {
  return /[^\x21-\x7e]/.test(word) || word.length > MAX_PLAIN_WORD || word.includes("=?");
}

/** Unstructured text (RFC 5322 3.2.5): plain words stay plain; each run of words that need it is encoded as one. */
function addUnstructured(lines: FoldedLines, value: string, urlList: boolean): void {
  const parts = value.split(/([ \t]+)/);
  const words = [];
  for (let i = 0; i < parts.length; i += 2) {
    const word = parts[i]!;
    const space = i === 0 ? " " : parts[i - 1]!;
    // RFC 2369 2: whitespace inside a list field's angle brackets is ignored, so a long URL is cut there.
    const cut = urlList && /^<[\x21-\x7e]*>,?$/.test(word) && word.length > MAX_PLAIN_WORD;
    words.push({ space, word, encode: !cut && needsEncoding(word), cut });
  }
  // A long whitespace run is kept inside an encoded-word: a line of nothing but whitespace may not be folded off.
  for (let i = 1; i < words.length; i++) {
    if (words[i]!.space.length > MAX_PLAIN_SPACE) words[i - 1]!.encode = words[i]!.encode = true;
  }
  for (const word of words) word.cut &&= !word.encode;
  for (let i = 0; i < words.length; ) {
    const { space, word, encode, cut } = words[i++]!;
    if (cut) {
      for (let at = 0; at < word.length; at += PREFERRED_LINE_LENGTH - 2) lines.add(at === 0 ? space : " ", word.slice(at, at + PREFERRED_LINE_LENGTH - 2));
    } else if (!encode) {
      lines.add(space, word);
    } else {
      let text = word;
      while (i < words.length && words[i]!.encode) text += words[i]!.space + words[i++]!.word;
      lines.addEncoded(space, text);
    }
  }
}

const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;

/** `"Doe, Jane"` -> `Doe, Jane`; anything not wholly one quoted string is taken as it is written. */
function unquote(name: string): string {
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(name);
  return quoted ? quoted[1]!.replace(/\\(.)/g, "$1") : name;
}

/** A display name (RFC 5322 phrase): atoms as they are, else one quoted string, else encoded-words. */
function addPhrase(lines: FoldedLines, name: string): void {
  const words = name.split(" ");
  if (words.every((w) => ATOM.test(w) && !w.includes("=?"))) {
    for (const word of words) lines.add(" ", word);
    return;
  }
  const quoted = `"${name.replace(/(["\\])/g, "\\$1")}"`;
  if (/^[\x20-\x7e]*$/.test(name) && !name.includes("=?") && quoted.length <= MAX_QUOTED) lines.add(" ", quoted);
  else lines.addEncoded(" ", name);
}

/** An address list with its display names encoded; false when an entry is not `name <address>` or `address`. */
function addAddressList(lines: FoldedLines, value: string): boolean {
  const entries = splitAddressList(value).map((entry) => {
    const angle = entry.lastIndexOf("<");
    const address = angle < 0 ? entry : entry.slice(angle + 1).replace(/>\s*$/, "");
    return { name: angle < 0 ? "" : unquote(entry.slice(0, angle).trim()), address };
  });
  if (entries.length === 0 || entries.some((e) => !/^[^\s<>",;]+@[^\s<>",;]+$/.test(e.address))) return false;
  entries.forEach((entry, i) => {
    const comma = i < entries.length - 1 ? "," : "";
    if (!entry.name) return lines.add(" ", entry.address + comma);
    addPhrase(lines, entry.name);
    lines.add(" ", `<${entry.address}>${comma}`);
  });
  return true;
}

/**
 * One header field, folded, without the final CRLF. Address fields keep their addresses as they
 * are and encode display names; every other field is unstructured text. Leading and trailing
 * whitespace of the value is not kept (a parser drops it anyway).
 */
export function formatHeader(name: string, value: string): string {
  if (value.length < MEMO_MIN_LENGTH || value.length > MEMO_MAX_LENGTH) return formatField(name, value);
  const key = `${name.length}:${name}:${value}`;
  let text = memo.get(key);
  if (text === undefined) {
    if (memo.size >= MEMO_ENTRIES) memo.clear();
    memo.set(key, (text = formatField(name, value)));
  }
  return text;
}

/**
 * Long values are remembered: every copy of a message to many recipients has the same To header
 * (a thousand addresses take a few ms to format), and a message is rendered once per recipient.
 */
const MEMO_MIN_LENGTH = 1024;
/** Bounds the memo's memory: at most MEMO_ENTRIES values of this many characters (and their output). */
const MEMO_MAX_LENGTH = 256 * 1024;
const MEMO_ENTRIES = 8;
const memo = new Map<string, string>();

function formatField(name: string, value: string): string {
  const field = name.replace(/[^!-9;-~]/g, "");
  const text = value.replace(/[\r\n\0]/g, " ").replace(/^[ \t]+|[ \t]+$/g, "");
  const lines = new FoldedLines(field);
  if (text === "") return lines.text();
  const lower = field.toLowerCase();
  if (ADDRESS_FIELDS.has(lower)) {
    const attempt = new FoldedLines(field);
    if (addAddressList(attempt, text)) return attempt.text();
  }
  addUnstructured(lines, text, URL_LIST_FIELDS.has(lower));
  return lines.text();
}

/** RFC 2231 attribute-char: what a percent-encoded parameter value may carry as it is. */
const ATTRIBUTE_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

function percentEncode(char: string): string {
  if (ATTRIBUTE_CHAR.test(char)) return char;
  return Array.from(encoder.encode(char), (b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
}

/**
 * A field with a value and parameters, such as `Content-Disposition: attachment; filename="a.pdf"`.
 * A parameter that is not short printable ASCII goes out as RFC 2231 continuations
 * (`filename*0*=utf-8''...; filename*1*=...`), which fold and which mail parsers reassemble.
 */
export function formatParameterHeader(name: string, value: string, parameters: Array<[string, string]>): string {
  const lines = new FoldedLines(name);
  lines.add(" ", value + (parameters.length > 0 ? ";" : ""));
  parameters.forEach(([key, raw], i) => {
    const end = i < parameters.length - 1 ? ";" : "";
    const text = raw.replace(/[\r\n\0]/g, " ");
    const quoted = `"${text.replace(/(["\\])/g, "\\$1")}"`;
    if (/^[\x20-\x7e]*$/.test(text) && quoted.length <= MAX_QUOTED) return lines.add(" ", `${key}=${quoted}${end}`);
    const sections: string[] = [""];
    for (const char of text) {
      const encoded = percentEncode(char);
      if (sections.at(-1)!.length + encoded.length > PARAMETER_SECTION) sections.push("");
      sections[sections.length - 1] += encoded;
    }
    sections.forEach((section, n) => lines.add(" ", `${key}*${n}*=${n === 0 ? "utf-8''" : ""}${section}${n < sections.length - 1 ? ";" : end}`));
  });
  return lines.text();
}

/**
 * JSON as Mailgun writes it into X-Mailgun-Variables, with a space after each `,` and `:`
 * (`{"a": 1, "b": [1, 2]}`): the spaces are where the field can fold. Newlines only ever appear
 * between tokens in JSON.stringify's indented output (strings escape theirs), so they can be
 * rewritten safely.
 */
export function spacedJson(value: unknown): string {
  return (JSON.stringify(value, null, 1) ?? "null")
    .replace(/\n *([\]}])/g, "$1")
    .replace(/([[{])\n */g, "$1")
    .replace(/\n */g, " ");
}
