// The SMTP wire format, pure: replies, EHLO extensions and the DATA body (RFC 5321). Used by the
// delivery consumer's SMTP client (src/consumers/smtp-client.ts).

export interface SmtpReply {
  code: number;
  lines: string[];
}

/** Takes one complete reply (a multi-line one ends at "NNN " or a bare "NNN") off the front of `buffer`. */
export function takeReply(buffer: string): { reply: SmtpReply; rest: string } | null {
  const lines: string[] = [];
  let start = 0;
  for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n", start)) {
    const line = buffer.slice(start, end).replace(/\r$/, "");
    start = end + 1;
    const match = /^(\d{3})([ -]?)(.*)$/.exec(line);
    if (!match) throw new Error(`Malformed SMTP reply line: ${line.slice(0, 200)}`);
    lines.push(match[3]!);
    if (match[2] !== "-") return { reply: { code: Number(match[1]), lines }, rest: buffer.slice(start) };
  }
  return null;
}

/** RFC 3463 status code at the start of the reply text, e.g. "5.1.1"; "" when the relay sends none. */
export function extractEnhancedCode(text: string): string {
  return /^([245]\.\d{1,3}\.\d{1,3})(?!\S)/.exec(text.trimStart())?.[1] ?? "";
}

/** EHLO keywords (upper-cased) mapped to their parameters; the first reply line is the greeting. */
export function parseEhloExtensions(reply: SmtpReply): Map<string, string> {
  const extensions = new Map<string, string>();
  for (const line of reply.lines.slice(1)) {
    const [keyword = "", ...params] = line.trim().split(/\s+/);
    if (keyword) extensions.set(keyword.toUpperCase(), params.join(" "));
  }
  return extensions;
}

export function normaliseLineEndings(text: string): string {
  return text.replace(/\r\n|\r|\n/g, "\r\n");
}

/** RFC 5321 4.5.2: a leading "." gets a second one so no body line can end DATA early. */
export function dotStuff(crlfText: string): string {
  return crlfText.replace(/(^|\r\n)\./g, "$1..");
}

/** The bytes to send after the 354: normalised, dot-stuffed, and ended by CRLF.CRLF. */
export function encodeDataBody(mime: string): string {
  const body = dotStuff(normaliseLineEndings(mime));
  return `${body}${body === "" || body.endsWith("\r\n") ? "" : "\r\n"}.\r\n`;
}
