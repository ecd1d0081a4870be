// Reads a Messages API request (multipart/form-data or urlencoded, as mailgun.js and other SDKs
// send it) into one validated object, with Mailgun's 400 messages. Nothing is written here.
import type { Context } from "hono";
import { parseAddress, splitAddressList, type ParsedAddress } from "../domain/addresses";
import { parseMailgunDate } from "../domain/dates";
import type { MimeAttachment } from "../domain/mime";
import { parseYesNo } from "../domain/tracking-settings";
import { refuseUnsafeHeaders } from "./compose-message";
import { ApiError, badRequest } from "./errors";
import { readForm, type FormValue } from "./fields";

export const MAX_RECIPIENTS = 1000;
/** Mailgun: a message may not exceed 25 MB, and its o:, h: and v: options 16 kB together. */
export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;
const MAX_OPTION_BYTES = 16 * 1024;
const MAX_TAGS = 10;
const MAX_TAG_LENGTH = 128;
/** o:deliverytime may be at most this far ahead (Mailgun: 3 days). Unit: ms. */
const MAX_SCHEDULE_MS = 3 * 24 * 3600 * 1000;

export interface MessageRequest {
  from: ParsedAddress;
  to: ParsedAddress[];
  cc: ParsedAddress[];
  bcc: ParsedAddress[];
  subject: string;
  text?: string;
  html?: string;
  attachments: MimeAttachment[];
  tags: string[];
  userVariables: Record<string, string | unknown>;
  recipientVariables: Record<string, Record<string, unknown>> | null;
  customHeaders: Array<[string, string]>;
  tracking: { tracking?: string; opens?: string; clicks?: string; pixelTop?: string };
  testMode: boolean;
  /** Unix ms, 0 for now. */
  deliverAt: number;
  /** Bytes of text, html and files: the base of the 25 MB check. */
  contentBytes: number;
}

export function addressesOf(values: string[], field: string): ParsedAddress[] {
  const out: ParsedAddress[] = [];
  for (const value of values) {
    for (const entry of splitAddressList(value)) {
      const parsed = parseAddress(entry);
      if (!parsed) throw badRequest(`${field} parameter is not a valid address. please check documentation`);
      out.push(parsed);
    }
  }
  return out;
}

function parseJsonObject(text: string, message: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest(message);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw badRequest(message);
  return value as Record<string, unknown>;
}

export function refuseOversizedBody(c: Context): void {
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > MAX_MESSAGE_BYTES + 1024 * 1024) throw new ApiError(400, "Message is too large: the limit is 25 MB");
}

export async function readMessageRequest(c: Context): Promise<MessageRequest> {
  refuseOversizedBody(c);
  return refuseUnsafeHeaders(await parseMessageEntries(await readForm(c)));
}

/** Validates form entries (strings and files) into a request, or throws Mailgun's 400. */
export async function parseMessageEntries(entries: Array<[string, FormValue]>): Promise<MessageRequest> {
  const strings = new Map<string, string[]>();
  const attachments: MimeAttachment[] = [];
  let contentBytes = 0;
  let optionBytes = 0;
  for (const [name, value] of entries) {
    if (typeof value !== "string") {
      if (name !== "attachment" && name !== "inline") continue;
      const content = new Uint8Array(await value.arrayBuffer());
      contentBytes += content.length;
      attachments.push({ filename: value.name || "attachment", contentType: value.type || "application/octet-stream", content, inline: name === "inline" });
      continue;
    }
    strings.set(name, [...(strings.get(name) ?? []), value]);
    if (/^(o|h|v):/.test(name)) optionBytes += name.length + value.length;
  }
  const one = (name: string) => strings.get(name)?.[0];
  const all = (name: string) => strings.get(name) ?? [];

  const fromText = one("from");
  if (!fromText) throw badRequest("from parameter is missing");
  const [from] = addressesOf([fromText], "from");
  if (!from) throw badRequest("from parameter is missing");
  if (all("to").length === 0) throw badRequest("to parameter is missing");
  const to = addressesOf(all("to"), "to");
  const cc = addressesOf(all("cc"), "cc");
  const bcc = addressesOf(all("bcc"), "bcc");
  if (to.length === 0) throw badRequest("to parameter is missing");
  if (to.length + cc.length + bcc.length > MAX_RECIPIENTS) throw badRequest(`Too many recipients, max is ${MAX_RECIPIENTS}`);

  const text = one("text");
  const html = one("html");
  if (text === undefined && html === undefined) throw badRequest("Need at least one of 'text' or 'html' parameters specified");
  contentBytes += (text?.length ?? 0) + (html?.length ?? 0);
  if (contentBytes > MAX_MESSAGE_BYTES) throw badRequest("Message is too large: the limit is 25 MB");
  if (optionBytes > MAX_OPTION_BYTES) throw badRequest("o:, h: and v: options are limited to 16 kB in total");

  const recipientVariablesText = one("recipient-variables");
  const recipientVariables = recipientVariablesText === undefined ? null : (parseJsonObject(recipientVariablesText, "'recipient-variables' parameter is not a valid JSON") as Record<string, Record<string, unknown>>);

  const userVariables: Record<string, unknown> = {};
  const headers: Array<[string, string]> = [];
  for (const [name, values] of strings) {
    if (name.startsWith("v:")) userVariables[name.slice(2)] = values[0]!;
    else if (name === "h:X-Mailgun-Variables") Object.assign(userVariables, parseJsonObject(values[0]!, "h:X-Mailgun-Variables is not a valid JSON object"));
    else if (name.startsWith("h:")) {
      const header = name.slice(2);
      if (!/^[!-9;-~]+$/.test(header)) throw badRequest(`'${header}' is not a valid header name`);
      for (const value of values) headers.push([header, value]);
    }
  }

  const tags = [...new Set(all("o:tag").map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= MAX_TAG_LENGTH && /^[\x20-\x7e]+$/.test(t)))].slice(0, MAX_TAGS);

  let deliverAt = 0;
  const deliveryTime = one("o:deliverytime");
  if (deliveryTime !== undefined) {
    const micros = parseMailgunDate(deliveryTime);
    if (micros === null) throw badRequest(`${deliveryTime} is not an RFC-2822 compliant date`);
    deliverAt = Math.floor(micros / 1000);
    if (deliverAt - Date.now() > MAX_SCHEDULE_MS) throw badRequest("o:deliverytime may be at most 3 days ahead");
  }
  const testModeText = one("o:testmode");
  const testMode = testModeText === undefined ? false : parseYesNo(testModeText);
  if (testMode === null) throw badRequest("o:testmode must be yes, no, true or false");

  return {
    from,
    to,
    cc,
    bcc,
    subject: one("subject") ?? "",
    text,
    html,
    attachments,
    tags,
    userVariables,
    recipientVariables,
    customHeaders: headers,
    tracking: { tracking: one("o:tracking"), opens: one("o:tracking-opens"), clicks: one("o:tracking-clicks"), pixelTop: one("o:tracking-pixel-location-top") },
    testMode,
    deliverAt,
    contentBytes,
  };
}
