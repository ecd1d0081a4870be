// Builds RFC 5322 / MIME messages: CRLF line endings, headers encoded and folded by
// src/domain/header-encoding.ts, quoted-printable text parts, base64 attachments, and the
// multipart nesting mail clients expect (mixed > related > alternative). Pure: bytes in, text out.
import { encodeBase64, encodeBase64Url } from "./base64url";
import { formatHeader, formatParameterHeader } from "./header-encoding";

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

/** RFC 6838 4.2 type/subtype, and a charset parameter (RFC 2978 mime-charset) after it. */
const MEDIA_TYPE = /^\s*([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})\s*(?:;|$)/;
const CHARSET = /;\s*charset\s*=\s*"?([A-Za-z0-9!#$%&'+\-^_`{}~]{1,40})"?\s*(?:;|$)/i;

/** The client's content type as a well-formed header value: its type and charset only, else application/octet-stream. */
function contentTypeOf(declared: string): { type: string; parameters: Array<[string, string]> } {
  const type = MEDIA_TYPE.exec(declared)?.[1];
  if (!type) return { type: "application/octet-stream", parameters: [] };
  const charset = CHARSET.exec(declared)?.[1];
  return { type: type.toLowerCase(), parameters: charset ? [["charset", charset]] : [] };
}

function filePart(file: MimeAttachment): Part {
  const { type, parameters } = contentTypeOf(file.contentType);
  const headers = [
    formatParameterHeader("Content-Type", type, [...parameters, ["name", file.filename]]),
    "Content-Transfer-Encoding: base64",
    formatParameterHeader("Content-Disposition", file.inline ? "inline" : "attachment", [["filename", file.filename]]),
  ];
  // The HTML refers to an inline part as cid:<filename>; the API keeps file names short enough for this line.
  if (file.inline) headers.push(`Content-ID: <${file.filename.replace(/[<>\r\n\0]/g, "")}>`);
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
  const headers = message.headers.map(([name, value]) => formatHeader(name, value));
  return [...headers, "MIME-Version: 1.0", root.headers].join(CRLF) + CRLF + CRLF + root.body + CRLF;
}
