// Renders one recipient's copy of a message: %recipient.x% substitution, tracking through the same
// rewrite code as prepare, and the RFC 5322 / MIME text with List-Unsubscribe, Message-ID and
// X-Mailgun-Variables headers. What a copy's events and metadata need is worked out first, apart
// (recipientFacts), so a send can be checked whole before any copy is built; header text that
// would break a copy's headers is refused before anything is stored (refuseUnsafeHeaders).
import type { SendingDomain } from "../db/domains";
import type { ParsedAddress } from "../domain/addresses";
import { spacedJson } from "../domain/header-encoding";
import { breaksHeader, isHeaderName, MAX_FILENAME_BYTES } from "../domain/header-values";
import { buildMime } from "../domain/mime";
import { fillTemplate, placeholdersIn, type RecipientVariables, variableText } from "../domain/recipient-template";
import { rewriteMessage } from "../domain/rewrite-message";
import type { EffectiveTracking } from "../domain/tracking-settings";
import { utf8ByteLength } from "../domain/utf8";
import type { Env } from "../env";
import { badRequest } from "./errors";
import type { MessageRequest } from "./message-form";
import { listUnsubscribeHeaders, makeLinks } from "./tracking-links";

/** One recipient's part of a send: what its events, its metadata and its copy's headers say. */
export interface RecipientFacts {
  recipient: ParsedAddress;
  /** The recipient's variables in a batch send (recipient-variables), {} when it has none; undefined otherwise. */
  variables: RecipientVariables | undefined;
  subject: string;
  /** The To header: in a batch send only the recipient, as Mailgun shows it. */
  to: string;
  userVariables: Record<string, unknown>;
  /** message.headers of this copy's events. */
  eventHeaders: Record<string, string>;
}

/** The message's recipients, To, then Cc, then Bcc, each address once (its first spelling kept). */
export function uniqueRecipients(request: Pick<MessageRequest, "to" | "cc" | "bcc">): ParsedAddress[] {
  const seen = new Set<string>();
  return [...request.to, ...request.cc, ...request.bcc].filter((r) => {
    const key = r.address.toLowerCase();
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** The Date header of the copies of a message accepted at `ms` (unix milliseconds). */
export function messageDate(ms: number): string {
  return new Date(ms).toUTCString().replace("GMT", "+0000");
}

export function variablesOf(request: MessageRequest, address: string): RecipientVariables | undefined {
  if (!request.recipientVariables) return undefined;
  // In a batch send, a recipient without variables still gets its placeholders emptied.
  return Object.hasOwn(request.recipientVariables, address) ? request.recipientVariables[address] : {};
}

/** The To header every copy of an ordinary (not batch) send shows: all of `to`. */
export function sharedToHeader(request: Pick<MessageRequest, "to">): string {
  return request.to.map((a) => a.display).join(", ");
}

/**
 * `sharedTo` (sharedToHeader) is made once by callers that make the facts of many recipients: the
 * header of 1,000 addresses joined again per recipient made a send's facts quadratic.
 */
export function recipientFacts(request: MessageRequest, recipient: ParsedAddress, messageId: string, sharedTo?: string): RecipientFacts {
  const variables = variablesOf(request, recipient.address);
  const userVariables = Object.fromEntries(Object.entries(request.userVariables).map(([k, v]) => [k, typeof v === "string" ? fillTemplate(v, variables) : v]));
  const subject = fillTemplate(request.subject, variables);
  const to = request.recipientVariables ? recipient.display : (sharedTo ?? sharedToHeader(request));
  return { recipient, variables, subject, to, userVariables, eventHeaders: { to, "message-id": messageId, from: request.from.display, subject } };
}

/**
 * Refuses (400) a request whose header text would break a header of the sent copies: a CR, LF
 * or NUL in a display name, the subject, an h: value, an attachment's file name or a recipient
 * variable that fills a header; an h: name that is not an RFC 5322 field name; a file name over
 * MAX_FILENAME_BYTES. Called on every parsed request, before anything is stored.
 */
export function refuseUnsafeHeaders(request: MessageRequest): MessageRequest {
  const refuse = (label: string) => badRequest(`${label} may not contain CR, LF or NUL characters`);
  for (const [field, list] of [
    ["from", [request.from]],
    ["to", request.to],
    ["cc", request.cc],
    ["bcc", request.bcc],
  ] as const) {
    if (list.some((a) => breaksHeader(a.display))) throw badRequest(`${field} parameter is not a valid address. please check documentation`);
  }
  if (breaksHeader(request.subject)) throw refuse("subject");
  for (const [name, value] of request.customHeaders) {
    if (!isHeaderName(name)) throw badRequest(`'${name}' is not a valid header name`);
    if (breaksHeader(value)) throw refuse(`h:${name}`);
  }
  for (const file of request.attachments) {
    if (breaksHeader(file.filename) || utf8ByteLength(file.filename) > MAX_FILENAME_BYTES) {
      throw badRequest(`attachment file names may be at most ${MAX_FILENAME_BYTES} bytes, without CR, LF or NUL characters`);
    }
  }
  // Placeholders are filled per recipient after the message is stored: check what they would put in a header now.
  const names = new Set([request.subject, ...request.customHeaders.map(([, value]) => value)].flatMap(placeholdersIn));
  for (const [address, variables] of Object.entries(request.recipientVariables ?? {})) {
    for (const name of names) {
      if (breaksHeader(variableText(variables, name))) throw refuse(`recipient-variables of ${address}: ${name}`);
    }
  }
  return request;
}

export async function composeForRecipient(
  env: Env,
  domain: SendingDomain,
  request: MessageRequest,
  facts: RecipientFacts,
  message: { messageId: string; issuedAt: number; tracking: EffectiveTracking; date: string },
): Promise<{ mime: string; size: number }> {
  const fill = (text: string) => fillTemplate(text, facts.variables);
  const links = await makeLinks(env, domain, { messageId: message.messageId, recipient: facts.recipient.address, issuedAt: message.issuedAt });
  const parts = await rewriteMessage(
    { html: request.html === undefined ? undefined : fill(request.html), text: request.text === undefined ? undefined : fill(request.text) },
    message.tracking,
    { html: domain.unsubscribeHtmlFooter, text: domain.unsubscribeTextFooter },
    links,
  );
  const headers: Array<[string, string]> = [
    ["From", request.from.display],
    ["To", facts.to],
  ];
  if (!request.recipientVariables && request.cc.length > 0) headers.push(["Cc", request.cc.map((a) => a.display).join(", ")]);
  headers.push(["Subject", facts.subject], ["Date", message.date], ["Message-ID", `<${message.messageId}>`]);
  for (const [name, value] of Object.entries(listUnsubscribeHeaders(links))) headers.push([name, value]);
  if (Object.keys(facts.userVariables).length > 0) headers.push(["X-Mailgun-Variables", spacedJson(facts.userVariables)]);
  for (const [name, value] of request.customHeaders) headers.push([name, fill(value)]);
  const mime = buildMime({ headers, text: parts.text, html: parts.html, attachments: request.attachments });
  return { mime, size: utf8ByteLength(mime) };
}
