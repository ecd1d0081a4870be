// Turns a raw tracking hit (plus what was remembered about its message) into the event Mailgun
// would log: the same keys, so mailgun.js and existing webhook receivers read it unchanged.
import { type ClientInfo, classifyBot, describeClient } from "./client-info";
import type { TrackingHit } from "./queue-messages";

/** What prepare remembered about a message for one recipient. */
export interface MessageMetadata {
  tags: string[];
  userVariables: Record<string, unknown>;
  headers: Record<string, string>;
  /** Unix milliseconds when the message was prepared. */
  preparedAt: number;
}

/** A Mailgun-shaped event body, as stored and served by the Events API. */
export interface MailgunEvent {
  id: string;
  event: string;
  timestamp: number;
  "log-level": "info" | "warn" | "error";
  recipient: string;
  "recipient-domain": string;
  tags: string[];
  "user-variables": Record<string, unknown>;
  message: { headers: Record<string, string>; size?: number; [key: string]: unknown };
  [key: string]: unknown;
}

export interface Geolocation {
  country: string;
  region: string;
  city: string;
}

const UNKNOWN = "Unknown";

export function toGeolocation(cf: TrackingHit["cf"]): Geolocation {
  return {
    country: cf.country || UNKNOWN,
    region: cf.regionCode || cf.region || UNKNOWN,
    city: cf.city || UNKNOWN,
  };
}

/** Float seconds with microseconds, as Mailgun's `timestamp`. */
export function toEventTimestamp(micros: number): number {
  return micros / 1e6;
}

export function buildTrackingEvent(hit: TrackingHit & { id: string }, metadata: MessageMetadata | undefined): MailgunEvent {
  const hitSeconds = hit.ts / 1e6;
  const issuedAt = Math.max(hit.issuedAt, metadata ? Math.floor(metadata.preparedAt / 1000) : 0);
  const bot = classifyBot({
    event: hit.event,
    method: hit.method,
    userAgent: hit.userAgent,
    asn: hit.cf.asn,
    asOrganization: hit.cf.asOrganization,
    secondsSinceIssued: hitSeconds - issuedAt,
  });
  const clientInfo: ClientInfo = describeClient(hit.userAgent, bot);
  const event: MailgunEvent = {
    id: hit.id,
    event: hit.event,
    timestamp: toEventTimestamp(hit.ts),
    "log-level": "info",
    recipient: hit.recipient,
    "recipient-domain": hit.recipient.slice(hit.recipient.lastIndexOf("@") + 1).toLowerCase(),
    ip: hit.ip,
    geolocation: toGeolocation(hit.cf),
    "client-info": clientInfo,
    message: { headers: { ...(metadata?.headers ?? {}), "message-id": hit.messageId } },
    tags: metadata?.tags ?? [],
    campaigns: [],
    "user-variables": metadata?.userVariables ?? {},
  };
  if (hit.event === "clicked") event.url = hit.url;
  return event;
}

/** The columns the Events API filters on, derived from an event body. */
export interface EventRow {
  id: string;
  domain: string;
  /** Microseconds since the epoch: exact, so keyset paging never skips or repeats. */
  ts: number;
  event: string;
  severity: string | null;
  recipient: string;
  from: string | null;
  to: string | null;
  subject: string | null;
  messageId: string | null;
  size: number | null;
  /** Lower-cased for case-insensitive tag filters. */
  tags: string[];
  body: MailgunEvent;
}

export function toEventRow(domain: string, body: MailgunEvent): EventRow {
  const headers = body.message?.headers ?? {};
  return {
    id: body.id,
    domain,
    ts: Math.round(body.timestamp * 1e6),
    event: body.event,
    severity: typeof body.severity === "string" ? body.severity : null,
    recipient: body.recipient.toLowerCase(),
    from: headers.from ?? null,
    to: headers.to ?? null,
    subject: headers.subject ?? null,
    messageId: headers["message-id"] ?? null,
    size: typeof body.message?.size === "number" ? body.message.size : null,
    tags: [...new Set(body.tags.map((tag) => tag.toLowerCase()))],
    body,
  };
}
