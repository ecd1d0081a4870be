// Checks a whole send before anything of it is stored, so that a refused message leaves nothing
// behind: every field a tracking token holds, what recipient variables grow each copy to
// (measured from the templates, without building anything), the size of the send as a whole, and
// the size of the events it will write. Each failure is Mailgun's 400 with a message.
import type { SendingDomain } from "../db/domains";
import type { ParsedAddress } from "../domain/addresses";
import { eventByteBounds } from "../domain/event-packs";
import { MAX_EVENT_BYTES } from "../domain/queue-messages";
import { filledBytes, parseTemplate, type Template, variableSizes } from "../domain/recipient-template";
import { MAX_TOKEN_FIELD_BYTES, tokenFieldTooLong } from "../domain/token";
import type { MailgunEvent } from "../domain/tracking-event";
import { utf8ByteLength } from "../domain/utf8";
import { type RecipientFacts, recipientFacts, sharedToHeader, variablesOf } from "./compose-message";
import { badRequest } from "./errors";
import { MAX_MESSAGE_BYTES, MAX_OPTION_BYTES, MAX_SUBJECT_BYTES, type MessageRequest } from "./message-form";

/**
 * Recipients times their copy's content (text, html and attachments, variables filled in): bounds
 * what one request renders and stores (1,000 recipients of 200 KB, or 8 of 25 MB). Unit: bytes.
 */
export const MAX_SEND_BYTES = 200 * 1024 * 1024;
/** Room kept in an accepted event for its message.size, known once the copy is built. Unit: bytes. */
const SIZE_FIELD_BYTES = 24;

interface Templates {
  subject: Template;
  content: Template[];
  variables: Array<[string, Template | null]>;
  headers: Array<[string, Template]>;
}

function templatesOf(request: MessageRequest): Templates {
  const subject = parseTemplate(request.subject);
  const headers = request.customHeaders.map(([name, value]): [string, Template] => [name, parseTemplate(value)]);
  return {
    subject,
    content: [request.html, request.text].flatMap((part) => (part === undefined ? [] : [parseTemplate(part)])),
    variables: Object.entries(request.userVariables).map(([name, value]) => [name, typeof value === "string" ? parseTemplate(value) : null]),
    headers,
  };
}

/** Bytes of one recipient's copy content; throws the 400 of the first limit its variables break. */
function checkRecipientVariables(request: MessageRequest, templates: Templates, address: string, attachmentBytes: number): number {
  const variables = variablesOf(request, address);
  if (!variables) return request.contentBytes;
  const sizes = variableSizes(variables);
  if (filledBytes(templates.subject, variables, sizes) > MAX_SUBJECT_BYTES) {
    throw badRequest(`subject must be at most ${MAX_SUBJECT_BYTES} bytes, also with the recipient variables of ${address} filled in`);
  }
  let options = 0;
  for (const [name, template] of templates.variables) {
    options += utf8ByteLength(`v:${name}`) + (template ? filledBytes(template, variables, sizes) : utf8ByteLength(JSON.stringify(request.userVariables[name])));
  }
  for (const [name, template] of templates.headers) options += utf8ByteLength(`h:${name}`) + filledBytes(template, variables, sizes);
  if (options > MAX_OPTION_BYTES)
    throw badRequest(`o:, h: and v: options are limited to 16 kB in total, also with the recipient variables of ${address} filled in`);
  const content = attachmentBytes + templates.content.reduce((sum, t) => sum + filledBytes(t, variables, sizes), 0);
  if (content > MAX_MESSAGE_BYTES) throw badRequest(`Message is too large: the limit is 25 MB, also with the recipient variables of ${address} filled in`);
  return content;
}

/** One recipient's facts, and the bytes of its copy's content (text, html, attachments, variables filled in). */
export type PlannedRecipient = RecipientFacts & { contentBytes: number };

/** The facts of each recipient's copy, once the whole send has been checked. */
export function planSend(request: MessageRequest, domain: SendingDomain, messageId: string, recipients: ParsedAddress[]): PlannedRecipient[] {
  for (const recipient of recipients) {
    const field = tokenFieldTooLong({ webPrefix: domain.webPrefix, domain: domain.name, messageId, recipient: recipient.address });
    if (field === "message_id")
      throw badRequest(`The domain name ${domain.name} is too long: its message ids would not fit the ${MAX_TOKEN_FIELD_BYTES} bytes of a tracking token`);
    if (field) throw badRequest(`${field} '${recipient.address.slice(0, 40)}' is longer than ${MAX_TOKEN_FIELD_BYTES} bytes`);
  }
  const templates = templatesOf(request);
  const attachmentBytes = request.attachments.reduce((sum, a) => sum + a.content.length, 0);
  const contentBytes = recipients.map((recipient) => checkRecipientVariables(request, templates, recipient.address, attachmentBytes));
  if (contentBytes.reduce((sum, n) => sum + n, 0) > MAX_SEND_BYTES) {
    throw badRequest(
      `This send is too large: ${recipients.length} recipients of this message come to more than ${MAX_SEND_BYTES / 1024 / 1024} MB; send it in smaller batches`,
    );
  }
  const sharedTo = sharedToHeader(request);
  return recipients.map((recipient, i) => ({ ...recipientFacts(request, recipient, messageId, sharedTo), contentBytes: contentBytes[i]! }));
}

/** Refuses a send whose events (accepted events are the largest of a send) would not fit a queue message. */
export function checkEventSizes(accepted: MailgunEvent[]): void {
  const largest = Math.max(0, ...eventByteBounds(accepted)) + SIZE_FIELD_BYTES;
  if (largest > MAX_EVENT_BYTES) {
    throw badRequest(
      `The message's headers, recipient list and variables would make each of its events ${largest} bytes, over the ${MAX_EVENT_BYTES}-byte limit of an event: put fewer addresses in its To header, or send it as a batch with recipient-variables`,
    );
  }
}

/** What one recipient's events have of their own, beside the message's facts. */
export interface OwnFacts {
  /** message.headers that differ (a batch send's To, a Subject with recipient variables). */
  headers?: Record<string, string>;
  /** Its filled-in user variables, when they differ. */
  userVariables?: Record<string, unknown>;
}

/**
 * The message's facts, stored and sent once for all its recipients, and what each recipient has
 * of its own: the headers every recipient shares, and the user variables when all are the same
 * (else the variables as submitted, placeholders and all, with each recipient's own beside them).
 */
export function splitFacts(
  request: MessageRequest,
  facts: RecipientFacts[],
): { headers: Record<string, string>; userVariables: Record<string, unknown>; own: OwnFacts[] } {
  const first = facts[0];
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(first?.eventHeaders ?? {})) {
    if (facts.every((f) => f.eventHeaders[name] === value)) headers[name] = value;
  }
  const json = facts.map((f) => JSON.stringify(f.userVariables));
  const userVariables = json.every((j) => j === json[0]) && first ? first.userVariables : request.userVariables;
  const commonJson = JSON.stringify(userVariables);
  const own = facts.map((f, i) => {
    const mine: OwnFacts = {};
    const differing = Object.entries(f.eventHeaders).filter(([name]) => !Object.hasOwn(headers, name));
    if (differing.length > 0) mine.headers = Object.fromEntries(differing);
    if (json[i] !== commonJson) mine.userVariables = f.userVariables;
    return mine;
  });
  return { headers, userVariables, own };
}
