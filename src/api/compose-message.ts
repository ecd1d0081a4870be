// Renders one recipient's copy of a message: %recipient.x% substitution, tracking through the same
// rewrite code as prepare, and the RFC 5322 / MIME text with List-Unsubscribe, Message-ID and
// X-Mailgun-Variables headers. Also refuses, before anything is stored, header text that would
// break those headers.
import type { SendingDomain } from "../db/domains";
import type { ParsedAddress } from "../domain/addresses";
import { spacedJson } from "../domain/header-encoding";
import { breaksHeader, isHeaderName, MAX_FILENAME_BYTES, placeholdersIn, RECIPIENT_PLACEHOLDER } from "../domain/header-values";
import { buildMime } from "../domain/mime";
import { rewriteMessage } from "../domain/rewrite-message";
import type { EffectiveTracking } from "../domain/tracking-settings";
import type { Env } from "../env";
import { badRequest } from "./errors";
import type { MessageRequest } from "./message-form";
import { listUnsubscribeHeaders, makeLinks } from "./tracking-links";

export interface ComposedMessage {
  mime: string;
  /** Bytes of the MIME text. */
  size: number;
  userVariables: Record<string, unknown>;
  /** message.headers of this copy's events. */
  eventHeaders: Record<string, string>;
}

/** The value a recipient's variables give a placeholder, or undefined (looked up as own keys only). */
function variableOf(variables: unknown, name: string): unknown {
  return variables !== null && typeof variables === "object" && Object.hasOwn(variables, name) ? (variables as Record<string, unknown>)[name] : undefined;
}

/** %recipient.name% placeholders filled from the recipient's variables; unknown ones become "". */
export function substituteRecipient(text: string, variables: Record<string, unknown> | undefined): string {
  if (!variables) return text;
  return text.replace(RECIPIENT_PLACEHOLDER, (_, name: string) => {
    const value = variableOf(variables, name);
    return value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
  });
}

const encoder = new TextEncoder();

/**
 * Refuses (400) a request whose header text would break a header of the sent copies: a CR, LF
 * or NUL in a display name, the subject, an h: value, an attachment's file name or a recipient
 * variable that fills a header; an h: name that is not an RFC 5322 field name; a file name over
 * MAX_FILENAME_BYTES. Called on every parsed request, before anything is stored.
 */
export function refuseUnsafeHeaders(request: MessageRequest): MessageRequest {
  const refuse = (label: string) => badRequest(`${label} may not contain CR, LF or NUL characters`);
  for (const [field, list] of [["from", [request.from]], ["to", request.to], ["cc", request.cc], ["bcc", request.bcc]] as const) {
    if (list.some((a) => breaksHeader(a.display))) throw badRequest(`${field} parameter is not a valid address. please check documentation`);
  }
  if (breaksHeader(request.subject)) throw refuse("subject");
  for (const [name, value] of request.customHeaders) {
    if (!isHeaderName(name)) throw badRequest(`'${name}' is not a valid header name`);
    if (breaksHeader(value)) throw refuse(`h:${name}`);
  }
  for (const file of request.attachments) {
    if (breaksHeader(file.filename) || encoder.encode(file.filename).length > MAX_FILENAME_BYTES) {
      throw badRequest(`attachment file names may be at most ${MAX_FILENAME_BYTES} bytes, without CR, LF or NUL characters`);
    }
  }
  // Placeholders are filled per recipient after the message is stored: check what they would put in a header now.
  const names = new Set([request.subject, ...request.customHeaders.map(([, value]) => value)].flatMap(placeholdersIn));
  for (const [address, variables] of Object.entries(request.recipientVariables ?? {})) {
    for (const name of names) {
      const value = variableOf(variables, name);
      if (typeof value === "string" && breaksHeader(value)) throw refuse(`recipient-variables of ${address}: ${name}`);
    }
  }
  return request;
}

export async function composeForRecipient(
  env: Env,
  domain: SendingDomain,
  request: MessageRequest,
  recipient: ParsedAddress,
  message: { messageId: string; issuedAt: number; tracking: EffectiveTracking; date: string },
): Promise<ComposedMessage> {
  // In a batch send, a recipient without variables still gets its placeholders emptied.
  const variables = request.recipientVariables ? ((variableOf(request.recipientVariables, recipient.address) as Record<string, unknown> | null | undefined) ?? {}) : undefined;
  const fill = (text: string) => substituteRecipient(text, variables);
  const links = await makeLinks(env, domain, { messageId: message.messageId, recipient: recipient.address, issuedAt: message.issuedAt });
  const parts = await rewriteMessage(
    { html: request.html === undefined ? undefined : fill(request.html), text: request.text === undefined ? undefined : fill(request.text) },
    message.tracking,
    { html: domain.unsubscribeHtmlFooter, text: domain.unsubscribeTextFooter },
    links,
  );
  const userVariables = Object.fromEntries(Object.entries(request.userVariables).map(([k, v]) => [k, typeof v === "string" ? fill(v) : v]));
  const subject = fill(request.subject);
  // A batch send (recipient-variables) shows each recipient only themselves, as Mailgun does.
  const to = request.recipientVariables ? recipient.display : request.to.map((a) => a.display).join(", ");
  const headers: Array<[string, string]> = [
    ["From", request.from.display],
    ["To", to],
  ];
  if (!request.recipientVariables && request.cc.length > 0) headers.push(["Cc", request.cc.map((a) => a.display).join(", ")]);
  headers.push(["Subject", subject], ["Date", message.date], ["Message-ID", `<${message.messageId}>`]);
  for (const [name, value] of Object.entries(listUnsubscribeHeaders(links))) headers.push([name, value]);
  if (Object.keys(userVariables).length > 0) headers.push(["X-Mailgun-Variables", spacedJson(userVariables)]);
  for (const [name, value] of request.customHeaders) headers.push([name, fill(value)]);
  const mime = buildMime({ headers, text: parts.text, html: parts.html, attachments: request.attachments });
  return {
    mime,
    size: encoder.encode(mime).length,
    userVariables,
    eventHeaders: { to, "message-id": message.messageId, from: request.from.display, subject },
  };
}
