// What API input may put into the headers of sent mail. A CR or LF would end the header line and
// start one of the sender's choosing (header injection); a NUL may not appear in a message at all
// (RFC 5322 2.2, 3.2.5). Requests carrying them are refused before anything is stored; the MIME
// builder (src/domain/header-encoding.ts) also turns any that slip through into spaces.

/** Longest `h:` header name: the name and its colon fit on a 78-character line. Unit: characters. */
export const MAX_HEADER_NAME_LENGTH = 76;
/** Longest attachment file name (the common file-system limit); it also bounds the Content-ID line. Unit: UTF-8 bytes. */
export const MAX_FILENAME_BYTES = 255;

/** RFC 5322 2.2: a field name is printable US-ASCII except the colon. */
const FIELD_NAME = /^[!-9;-~]+$/;
const LINE_BREAK_OR_NUL = /[\r\n\0]/;

export function isHeaderName(name: string): boolean {
  return name.length <= MAX_HEADER_NAME_LENGTH && FIELD_NAME.test(name);
}

/** True when the text may not go into a header: it holds a CR, an LF or a NUL. */
export function breaksHeader(text: string): boolean {
  return LINE_BREAK_OR_NUL.test(text);
}
