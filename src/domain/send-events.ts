// Mailgun-shaped events of the send path: accepted, delivered, failed (temporary, permanent,
// suppressed, bounced later) and complained. Pure builders: the id and time come from the caller,
// fixed once per event so that every retry of a queue message writes the same event.
import { randomId } from "./base64url";
import type { MailgunEvent } from "./tracking-event";

/** What every event of one message to one recipient shares. */
export interface MessageFacts {
  domain: string;
  /** Message id without angle brackets. */
  messageId: string;
  /** message.headers as Mailgun shows them: to, message-id, from, subject. */
  headers: Record<string, string>;
  tags: string[];
  userVariables: Record<string, unknown>;
  /** Size of the MIME message in bytes, when known. */
  size?: number;
  testMode?: boolean;
  /** Where the message as submitted is kept (GET /v3/domains/{d}/messages/{key}), as Mailgun's `storage`. */
  storage?: { key: string; url: string };
}

function recipientDomain(recipient: string): string {
  return recipient.slice(recipient.lastIndexOf("@") + 1).toLowerCase();
}

function base(facts: MessageFacts, recipient: string, event: string, logLevel: MailgunEvent["log-level"], at: { id?: string; ms: number }): MailgunEvent {
  const message: MailgunEvent["message"] = { headers: { ...facts.headers, "message-id": facts.messageId } };
  if (facts.size !== undefined) message.size = facts.size;
  const built: MailgunEvent = {
    id: at.id ?? randomId(),
    event,
    timestamp: at.ms / 1000,
    "log-level": logLevel,
    recipient,
    "recipient-domain": recipientDomain(recipient),
    message,
    tags: facts.tags,
    campaigns: [],
    "user-variables": facts.userVariables,
  };
  if (facts.storage) built.storage = { key: facts.storage.key, url: facts.storage.url };
  return built;
}

export function acceptedEvent(
  facts: MessageFacts,
  recipient: string,
  extra: { recipients: string[]; method: "http" | "smtp"; sender: string; attachments: Array<{ filename: string; "content-type": string; size: number }> },
  at: { id?: string; ms: number },
): MailgunEvent {
  const event = base(facts, recipient, "accepted", "info", at);
  event.method = extra.method;
  event.envelope = { sender: extra.sender, transport: "", targets: recipient };
  event.flags = { "is-authenticated": true, "is-test-mode": facts.testMode === true };
  event.message = { ...event.message, attachments: extra.attachments, recipients: extra.recipients };
  return event;
}

export interface DeliveryStatus {
  code: number;
  message: string;
  description?: string;
  attemptNo: number;
  /** The relay the message was handed to (Tidings delivers through a relay, not to MX hosts). */
  mxHost?: string;
  tls?: boolean;
  sessionSeconds?: number;
  enhancedCode?: string;
  retrySeconds?: number;
  bounceCode?: string;
}

function deliveryStatus(status: DeliveryStatus): Record<string, unknown> {
  const out: Record<string, unknown> = {
    code: status.code,
    message: status.message,
    description: status.description ?? "",
    "attempt-no": status.attemptNo,
    "session-seconds": status.sessionSeconds ?? 0,
  };
  if (status.mxHost !== undefined) out["mx-host"] = status.mxHost;
  if (status.tls !== undefined) out.tls = status.tls;
  if (status.enhancedCode) out["enhanced-code"] = status.enhancedCode;
  if (status.retrySeconds !== undefined) out["retry-seconds"] = status.retrySeconds;
  if (status.bounceCode) out["bounce-code"] = status.bounceCode;
  return out;
}

export function deliveredEvent(facts: MessageFacts, recipient: string, status: DeliveryStatus, at: { id?: string; ms: number }): MailgunEvent {
  const event = base(facts, recipient, "delivered", "info", at);
  event.envelope = { transport: "smtp", targets: recipient };
  event.flags = { "is-authenticated": true, "is-test-mode": facts.testMode === true };
  event["delivery-status"] = deliveryStatus(status);
  return event;
}

export type FailureReason = "generic" | "bounce" | "old" | "suppress-bounce" | "suppress-unsubscribe" | "suppress-complaint" | "espblock";

export function failedEvent(
  facts: MessageFacts,
  recipient: string,
  failure: { severity: "temporary" | "permanent"; reason: FailureReason; status: DeliveryStatus; delayedBounce?: boolean },
  at: { id?: string; ms: number },
): MailgunEvent {
  const event = base(facts, recipient, "failed", failure.severity === "permanent" ? "error" : "warn", at);
  event.severity = failure.severity;
  event.reason = failure.reason;
  event.envelope = { transport: "smtp", targets: recipient };
  event.flags = { "is-authenticated": true, "is-test-mode": facts.testMode === true, "is-delayed-bounce": failure.delayedBounce === true };
  event["delivery-status"] = deliveryStatus(failure.status);
  return event;
}

export function complainedEvent(facts: MessageFacts, recipient: string, at: { id?: string; ms: number }): MailgunEvent {
  const event = base(facts, recipient, "complained", "warn", at);
  event.flags = { "is-test-mode": false };
  return event;
}
