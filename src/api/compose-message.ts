// Renders one recipient's copy of a message: %recipient.x% substitution, tracking through the same
// rewrite code as prepare, and the RFC 5322 / MIME text with List-Unsubscribe, Message-ID and
// X-Mailgun-Variables headers.
import type { SendingDomain } from "../db/domains";
import type { ParsedAddress } from "../domain/addresses";
import { buildMime } from "../domain/mime";
import { rewriteMessage } from "../domain/rewrite-message";
import type { EffectiveTracking } from "../domain/tracking-settings";
import type { Env } from "../env";
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

/** %recipient.name% placeholders filled from the recipient's variables; unknown ones become "". */
export function substituteRecipient(text: string, variables: Record<string, unknown> | undefined): string {
  if (!variables) return text;
  return text.replace(/%recipient\.([A-Za-z0-9_.-]+)%/g, (_, name: string) => {
    const value = Object.hasOwn(variables, name) ? variables[name] : undefined; // not %recipient.constructor%
    return value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
  });
}

const encoder = new TextEncoder();

export async function composeForRecipient(
  env: Env,
  domain: SendingDomain,
  request: MessageRequest,
  recipient: ParsedAddress,
  message: { messageId: string; issuedAt: number; tracking: EffectiveTracking; date: string },
): Promise<ComposedMessage> {
  // In a batch send, a recipient without variables still gets its placeholders emptied.
  const variables = request.recipientVariables ? (request.recipientVariables[recipient.address] ?? {}) : undefined;
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
  if (Object.keys(userVariables).length > 0) headers.push(["X-Mailgun-Variables", JSON.stringify(userVariables)]);
  for (const [name, value] of request.customHeaders) headers.push([name, fill(value)]);
  const mime = buildMime({ headers, text: parts.text, html: parts.html, attachments: request.attachments });
  return {
    mime,
    size: encoder.encode(mime).length,
    userVariables,
    eventHeaders: { to, "message-id": message.messageId, from: request.from.display, subject },
  };
}
