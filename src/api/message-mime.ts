// POST /v3/{domain}/messages.mime: a whole MIME message (`message`, as a file part or, as
// mailgun.js sends it, a plain field) plus `to` and o:/h:/v: options. The message is parsed with
// postal-mime and goes through the same path as /messages, so tracking is applied the same way.
// Header values are taken decoded (RFC 2047 words read back to text), so that the copies encode
// them once, as they do for /messages, and their checks see what the text really holds.
import type { Context } from "hono";
import PostalMime, { type Address, addressParser, decodeWords } from "postal-mime";
import { mailboxEntry } from "../domain/addresses";
import { refuseUnsafeHeaders } from "./compose-message";
import { badRequest } from "./errors";
import { type FormValue, readForm } from "./fields";
import { type MessageRequest, parseMessageEntries, refuseOversizedBody } from "./message-form";

/** Headers of the original kept on each copy; the rest are rebuilt (Message-ID, Date, To...). */
const KEPT_HEADERS = new Set(["reply-to", "in-reply-to", "references", "list-id", "precedence", "auto-submitted"]);

/** An address header's decoded mailboxes as list entries (group members included), or its decoded text when it has none. */
function addressText(value: string): string {
  const boxes = addressParser(value)
    .flatMap((a: Address) => a.group ?? [a])
    .filter((b) => b.address);
  return boxes.length > 0 ? boxes.map((b) => mailboxEntry(b.name, b.address)).join(", ") : decodeWords(value);
}

export async function readMimeRequest(c: Context): Promise<MessageRequest> {
  refuseOversizedBody(c);
  const entries = await readForm(c);
  const message = entries.find(([name]) => name === "message")?.[1];
  if (message === undefined) throw badRequest("message parameter is missing");
  const raw = typeof message === "string" ? message : new Uint8Array(await message.arrayBuffer());
  let parsed;
  try {
    parsed = await PostalMime.parse(raw);
  } catch {
    throw badRequest("'message' parameter is not a valid MIME message");
  }
  const derived: Array<[string, FormValue]> = [];
  const fromHeader = parsed.headers.find((h) => h.key === "from")?.value;
  if (fromHeader) derived.push(["from", addressText(fromHeader)]);
  if (parsed.subject !== undefined) derived.push(["subject", parsed.subject]);
  if (parsed.text !== undefined) derived.push(["text", parsed.text]);
  if (parsed.html !== undefined) derived.push(["html", parsed.html]);
  for (const header of parsed.headers) {
    if (KEPT_HEADERS.has(header.key) || header.key.startsWith("x-")) {
      const value = header.key === "reply-to" ? addressText(header.value) : decodeWords(header.value);
      if (header.key === "x-mailgun-variables") derived.push(["h:X-Mailgun-Variables", value]);
      else derived.push([`h:${header.originalKey ?? header.key}`, value]);
    }
  }
  for (const attachment of parsed.attachments) {
    const content = typeof attachment.content === "string" ? new TextEncoder().encode(attachment.content) : new Uint8Array(attachment.content);
    const file = new File([content], attachment.filename ?? "attachment", { type: attachment.mimeType });
    derived.push([attachment.disposition === "inline" ? "inline" : "attachment", file]);
  }
  return refuseUnsafeHeaders(await parseMessageEntries([...entries.filter(([name]) => name !== "message"), ...derived]));
}
