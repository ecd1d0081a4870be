// Reads a Messages API request (multipart/form-data or urlencoded, as mailgun.js and other SDKs
// send it) into one validated object, with Mailgun's 400 messages. Nothing is written here.
import type { Context } from "hono";
import { type ParsedAddress, parseAddress, splitAddressList } from "../domain/addresses";
import { parseMailgunDate } from "../domain/dates";
import { describeJsonProblem, parseBoundedJson } from "../domain/json-bounds";
import type { MimeAttachment } from "../domain/mime";
import { MAX_TOKEN_FIELD_BYTES } from "../domain/token";
import { parseYesNo } from "../domain/tracking-settings";
import { utf8ByteLength } from "../domain/utf8";
import { refuseUnsafeHeaders } from "./compose-message";
import { ApiError, badRequest } from "./errors";
import { type FormValue, readForm } from "./fields";

/** Mailgun's cap on To, Cc and Bcc together. Unit: recipients. */
export const MAX_RECIPIENTS = 1000;
/** Mailgun: a message may not exceed 25 MB, and its o:, h: and v: options 16 kB together. */
export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;
/** o:, h: and v: options together, as submitted and again once recipient variables are filled in. Unit: bytes. */
export const MAX_OPTION_BYTES = 16 * 1024;
/**
 * One address as written, display name included (From, each To, Cc and Bcc entry): the To and
 * From headers are in every event of the message. Unit: bytes. The bare address is held to
 * MAX_TOKEN_FIELD_BYTES, the field it fills in every tracking token.
 */
export const MAX_ADDRESS_DISPLAY_BYTES = 1024;
/** The subject, as submitted and once recipient variables are filled in: it is in every event. Unit: bytes. */
export const MAX_SUBJECT_BYTES = 4096;
/** recipient-variables: 1,000 recipients with 2 KB of variables each. Unit: bytes of JSON. */
export const MAX_RECIPIENT_VARIABLES_BYTES = 2_000_000;
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

const shown = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}...` : text);

export function addressesOf(values: string[], field: string): ParsedAddress[] {
  const out: ParsedAddress[] = [];
  for (const value of values) {
    for (const entry of splitAddressList(value)) {
      const parsed = parseAddress(entry);
      if (!parsed) throw badRequest(`${field} parameter is not a valid address. please check documentation`);
      if (utf8ByteLength(parsed.address) > MAX_TOKEN_FIELD_BYTES) {
        throw badRequest(`${field} parameter is not a valid address: '${shown(parsed.address)}' is longer than ${MAX_TOKEN_FIELD_BYTES} bytes`);
      }
      if (utf8ByteLength(parsed.display) > MAX_ADDRESS_DISPLAY_BYTES) {
        throw badRequest(`${field} parameter is not a valid address: '${shown(parsed.display)}' is longer than ${MAX_ADDRESS_DISPLAY_BYTES} bytes`);
      }
      out.push(parsed);
    }
  }
  return out;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A JSON object from a form field, bounded in bytes and depth before it is parsed. */
function parseJsonObject(text: string, name: string, maxBytes: number, invalid: string): Record<string, unknown> {
  const parsed = parseBoundedJson(text, maxBytes);
  if (!parsed.ok) throw badRequest(parsed.problem === "invalid" ? invalid : describeJsonProblem(name, parsed.problem, maxBytes));
  if (!isObject(parsed.value)) throw badRequest(invalid);
  return parsed.value;
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
    if (/^(o|h|v):/.test(name)) optionBytes += utf8ByteLength(name) + utf8ByteLength(value);
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
  contentBytes += utf8ByteLength(text ?? "") + utf8ByteLength(html ?? "");
  if (contentBytes > MAX_MESSAGE_BYTES) throw badRequest("Message is too large: the limit is 25 MB");
  if (optionBytes > MAX_OPTION_BYTES) throw badRequest("o:, h: and v: options are limited to 16 kB in total");
  const subject = one("subject") ?? "";
  if (utf8ByteLength(subject) > MAX_SUBJECT_BYTES) throw badRequest(`subject must be at most ${MAX_SUBJECT_BYTES} bytes`);

  const recipientVariablesText = one("recipient-variables");
  let recipientVariables: Record<string, Record<string, unknown>> | null = null;
  if (recipientVariablesText !== undefined) {
    const invalid = "'recipient-variables' parameter is not a valid JSON";
    const parsed = parseJsonObject(recipientVariablesText, "'recipient-variables' parameter", MAX_RECIPIENT_VARIABLES_BYTES, invalid);
    // Each recipient's variables are an object of names, looked up with Object.hasOwn.
    if (!Object.values(parsed).every(isObject)) throw badRequest(invalid);
    recipientVariables = parsed as Record<string, Record<string, unknown>>;
  }

  // Names come from the request: collected as entries, so "__proto__" is a name like any other.
  const variableEntries: Array<[string, unknown]> = [];
  const headers: Array<[string, string]> = [];
  for (const [name, values] of strings) {
    if (name.startsWith("v:")) variableEntries.push([name.slice(2), values[0]!]);
    else if (name === "h:X-Mailgun-Variables") {
      variableEntries.push(
        ...Object.entries(parseJsonObject(values[0]!, "h:X-Mailgun-Variables", MAX_OPTION_BYTES, "h:X-Mailgun-Variables is not a valid JSON object")),
      );
    } else if (name.startsWith("h:")) {
      const header = name.slice(2);
      if (!/^[!-9;-~]+$/.test(header)) throw badRequest(`'${header}' is not a valid header name`);
      for (const value of values) headers.push([header, value]);
    }
  }
  const userVariables: Record<string, unknown> = Object.fromEntries(variableEntries);

  const tags = [
    ...new Set(
      all("o:tag")
        .map((t) => t.trim())
        .filter((t) => t.length > 0 && t.length <= MAX_TAG_LENGTH && /^[\x20-\x7e]+$/.test(t)),
    ),
  ].slice(0, MAX_TAGS);

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
    subject,
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
