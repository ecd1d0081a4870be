// Folding of header fields (RFC 5322 2.2.3) and RFC 2047 encoded-words (UTF-8, Q or B, whichever
// is shorter), for src/domain/header-encoding.ts: a field is built left to right, folding before
// a whitespace run whenever that keeps its lines within 78 characters. Pure.
import { encodeBase64 } from "./base64url";

/** RFC 5322 2.1.1: no line may be longer than this, CRLF excluded. Unit: characters. */
export const MAX_LINE_LENGTH = 998;
/** RFC 5322 2.1.1: and lines should be no longer than this. Unit: characters. */
export const PREFERRED_LINE_LENGTH = 78;
/** RFC 2047 2: an encoded-word is at most this long. Unit: characters. */
const MAX_ENCODED_WORD = 75;
/** "=?UTF-8?Q?" and "?=". Unit: characters. */
const ENCODED_WORD_OVERHEAD = 12;
/** Room for one encoded character of any width (4 UTF-8 bytes as Q) plus the overhead. Unit: characters. */
const MIN_ENCODED_WORD = ENCODED_WORD_OVERHEAD + 12;

const CRLF = "\r\n";
const encoder = new TextEncoder();

/** The lines of one field, built left to right; a fold goes before a whitespace run (RFC 5322 3.2.2). */
export class FoldedLines {
  private readonly done: string[] = [];
  private line: string;
  private atoms = 0;

  constructor(name: string) {
    this.line = `${name}:`;
  }

  /** Appends `space + text` (space is one or more WSP), on a new line when that keeps lines within 78. */
  add(space: string, text: string): void {
    const piece = space + text;
    // A piece that is alone on the line stays where it is unless moving it makes a short line.
    if (this.line.length + piece.length > PREFERRED_LINE_LENGTH && (this.atoms > 0 || piece.length <= PREFERRED_LINE_LENGTH)) this.fold();
    this.line += piece;
    this.atoms++;
  }

  /** Appends text as encoded-words, the first after `space`, each sized to the room left on its line. */
  addEncoded(space: string, text: string): void {
    const bytes = encoder.encode(text);
    let qTotal = 0;
    for (const b of bytes) qTotal += qLength(b);
    const useQ = qTotal <= Math.ceil(bytes.length / 3) * 4;
    let at = 0;
    let separator = space;
    while (at < bytes.length) {
      let room = Math.min(MAX_ENCODED_WORD, PREFERRED_LINE_LENGTH - this.line.length - separator.length);
      if (room < MIN_ENCODED_WORD) {
        this.fold();
        room = Math.min(MAX_ENCODED_WORD, PREFERRED_LINE_LENGTH - separator.length);
      }
      const next = wordEnd(bytes, at, room - ENCODED_WORD_OVERHEAD, useQ);
      const chunk = bytes.subarray(at, next);
      this.line += `${separator}=?UTF-8?${useQ ? "Q" : "B"}?${useQ ? encodeQ(chunk) : encodeBase64(chunk)}?=`;
      this.atoms++;
      at = next;
      // Whitespace between two encoded-words is not part of the text (RFC 2047 6.2).
      separator = " ";
    }
  }

  private fold(): void {
    this.done.push(this.line);
    this.line = "";
    this.atoms = 0;
  }

  text(): string {
    return [...this.done, this.line].join(CRLF);
  }
}

/** RFC 2047 5(3): the characters a Q-encoded word may carry as they are, in any position (phrases too). */
function isQLiteral(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x21 ||
    byte === 0x2a ||
    byte === 0x2b ||
    byte === 0x2d ||
    byte === 0x2f
  );
}

/** Characters one byte takes in a Q-encoded word. */
function qLength(byte: number): number {
  return isQLiteral(byte) || byte === 0x20 ? 1 : 3;
}

function encodeQ(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b === 0x20 ? "_" : isQLiteral(b) ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/** Bytes of the UTF-8 sequence a lead byte starts (TextEncoder output is always well-formed). */
function sequenceLength(lead: number): number {
  return lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
}

/**
 * Index after the last whole character, from `from`, that fits `payload` encoded characters
 * (RFC 2047 5: a word holds whole characters); at least one character is taken.
 */
function wordEnd(bytes: Uint8Array, from: number, payload: number, useQ: boolean): number {
  let at = from;
  let cost = 0;
  while (at < bytes.length) {
    const length = sequenceLength(bytes[at]!);
    let next = cost;
    if (useQ) for (let i = at; i < at + length; i++) next += qLength(bytes[i]!);
    else next = Math.ceil((at + length - from) / 3) * 4;
    if (next > payload && at > from) break;
    cost = next;
    at += length;
  }
  return at;
}
