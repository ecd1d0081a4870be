// Builds RFC 5322 / MIME messages: CRLF line endings, RFC 2047 encoded headers, quoted-printable
// text parts, base64 attachments, and the multipart nesting mail clients expect
// (mixed > related > alternative). Pure: bytes in, text out.
import { splitAddressList } from "./addresses";
import { encodeBase64, encodeBase64Url } from "./base64url";

export interface MimeAttachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
  /** Inline parts are referenced from the HTML as cid:<filename>. */
  inline: boolean;
}

export interface MimeMessage {
  /** Header name -> value, in order; values are unencoded text. */
  headers: Array<[string, string]>;
  text?: string;
  html?: string;
  attachments: MimeAttachment[];
}

const CRLF = "\r\n";
const encoder = new TextEncoder();

function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/** RFC 2047 encoded-word (base64) for a header value with non-ASCII text. */
export function encodeHeaderValue(value: string): string {
  const clean = value.replace(/[\r\n]+/g, " ");
  if (isAscii(clean)) return clean;
  const bytes = encoder.encode(clean);
  const words: string[] = [];
  // 45 bytes -> 60 base64 characters: each encoded word stays under the 75-character limit.
  for (let i = 0; i < bytes.length; ) {
    let end = Math.min(bytes.length, i + 45);
    while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--; // never split a UTF-8 sequence
    words.push(`=?UTF-8?B?${btoa(String.fromCharCode(...bytes.subarray(i, end)))}?=`);
    i = end;
  }
  return words.join(`${CRLF} `);
}

const ADDRESS_HEADERS = new Set(["from", "to", "cc", "reply-to", "sender"]);

/** Address headers encode only display names: an encoded word may not contain the address. */
export function encodeAddressHeader(value: string): string {
  return splitAddressList(value)
    .map((entry) => {
      const angle = entry.lastIndexOf("<");
      if (angle <= 0 || isAscii(entry)) return entry;
      const name = entry.slice(0, angle).trim().replace(/^"|"$/g, "");
      return `${encodeHeaderValue(name)} ${entry.slice(angle)}`;
    })
    .join(", ");
}

/** Quoted-printable (RFC 2045) of UTF-8 text, with CRLF line breaks and soft breaks at 76. */
export function encodeQuotedPrintable(text: string): string {
  const lines = text.replace(/\r\n|\r|\n/g, "\n").split("\n");
  return lines
    .map((line) => {
      const bytes = encoder.encode(line);
      let out = "";
      let width = 0;
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!;
        const last = i === bytes.length - 1;
        const literal = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
        const piece = literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
        if (width + piece.length > 75) {
          out += `=${CRLF}`;
          width = 0;
        }
        out += piece;
        width += piece.length;
      }
      return out;
    })
    .join(CRLF);
}

function base64Lines(bytes: Uint8Array): string {
  return (encodeBase64(bytes).match(/.{1,76}/g) ?? []).join(CRLF);
}

function boundary(): string {
  return `=_tidings_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(12)))}`;
}

interface Part {
  headers: string;
  body: string;
}

function textPart(type: "plain" | "html", content: string): Part {
  return { headers: `Content-Type: text/${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: quoted-printable`, body: encodeQuotedPrintable(content) };
}

function quoteParam(value: string): string {
  return `"${value.replace(/["\\\r\n]/g, "_")}"`;
}

function filePart(file: MimeAttachment): Part {
  const name = isAscii(file.filename) ? quoteParam(file.filename) : `"${encodeHeaderValue(file.filename)}"`;
  const headers = [
    `Content-Type: ${file.contentType || "application/octet-stream"}; name=${name}`,
    "Content-Transfer-Encoding: base64",
    `Content-Disposition: ${file.inline ? "inline" : "attachment"}; filename=${name}`,
  ];
  if (file.inline) headers.push(`Content-ID: <${file.filename.replace(/[<>\r\n]/g, "")}>`);
  return { headers: headers.join(CRLF), body: base64Lines(file.content) };
}

function multipart(subtype: string, parts: Part[]): Part {
  if (parts.length === 1) return parts[0]!;
  const mark = boundary();
  const body = parts.map((p) => `--${mark}${CRLF}${p.headers}${CRLF}${CRLF}${p.body}${CRLF}`).join("") + `--${mark}--`;
  return { headers: `Content-Type: multipart/${subtype}; boundary="${mark}"`, body };
}

/** The whole message as text with CRLF line endings. */
export function buildMime(message: MimeMessage): string {
  const alternatives: Part[] = [];
  if (message.text !== undefined) alternatives.push(textPart("plain", message.text));
  if (message.html !== undefined) alternatives.push(textPart("html", message.html));
  let root = multipart("alternative", alternatives);
  const inline = message.attachments.filter((a) => a.inline).map(filePart);
  if (inline.length > 0) root = multipart("related", [root, ...inline]);
  const attached = message.attachments.filter((a) => !a.inline).map(filePart);
  if (attached.length > 0) root = multipart("mixed", [root, ...attached]);
  const headers = message.headers.map(
    ([name, value]) => `${name}: ${ADDRESS_HEADERS.has(name.toLowerCase()) ? encodeAddressHeader(value) : encodeHeaderValue(value)}`,
  );
  return [...headers, "MIME-Version: 1.0", root.headers].join(CRLF) + CRLF + CRLF + root.body + CRLF;
}
