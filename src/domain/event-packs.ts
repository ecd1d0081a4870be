// Packs of ready events: the events of one message travel together on the events queue, what
// they share (headers, tags, variables, the recipient list...) once, and each event as only what
// differs. A 1,000-recipient send is then a handful of queue messages instead of one per event,
// and unpacking gives back exactly the events that were packed. Format in docs/storage.md.
import type { MailgunEvent } from "./tracking-event";
import { utf8ByteLength } from "./utf8";

/** Events in one pack: a consumer batch holds 100 messages, so a batch stays a few thousand events. */
export const MAX_EVENTS_PER_PACK = 100;

type Json = Record<string, unknown>;

export interface EventPack {
  type: "events";
  v: 1;
  domain: string;
  /** Keys every event of the pack has with the same value; `message` and `message.headers` key by key. */
  common: Json;
  /** Per event, the rest. */
  events: Json[];
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** The keys with the same value in every record, and each record without them. */
function splitRecords(records: Json[]): { common: Json; rest: Json[] } {
  const common: Json = {};
  const first = records[0] ?? {};
  for (const key of Object.keys(first)) {
    if (records.every((r) => Object.hasOwn(r, key) && same(r[key], first[key]))) common[key] = first[key];
  }
  const rest = records.map((r) => Object.fromEntries(Object.entries(r).filter(([key]) => !Object.hasOwn(common, key))));
  return { common, rest };
}

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** Splits events into what they share and what each adds; mergeEvent(common, delta) gives each back. */
export function splitEvents(events: MailgunEvent[]): { common: Json; deltas: Json[] } {
  const records = events as unknown as Json[];
  const top = splitRecords(records.map(({ message: _, ...rest }) => rest));
  const messages = records.map((r) => (isRecord(r.message) ? r.message : {}));
  const message = splitRecords(messages.map(({ headers: _, ...rest }) => rest));
  const headers = splitRecords(messages.map((m) => (isRecord(m.headers) ? m.headers : {})));
  const common: Json = { ...top.common, message: { ...message.common, headers: headers.common } };
  const deltas = records.map((_, i) => {
    const delta: Json = { ...top.rest[i] };
    const ownMessage: Json = { ...message.rest[i] };
    if (Object.keys(headers.rest[i]!).length > 0) ownMessage.headers = headers.rest[i];
    if (Object.keys(ownMessage).length > 0) delta.message = ownMessage;
    return delta;
  });
  return { common, deltas };
}

/** One event of a pack: its own keys over the common ones, `message` and its headers merged key by key. */
export function mergeEvent(common: Json, delta: Json): Json {
  const commonMessage = isRecord(common.message) ? common.message : {};
  const ownMessage = isRecord(delta.message) ? delta.message : {};
  const headers = { ...(isRecord(commonMessage.headers) ? commonMessage.headers : {}), ...(isRecord(ownMessage.headers) ? ownMessage.headers : {}) };
  return { ...common, ...delta, message: { ...commonMessage, ...ownMessage, headers } };
}

/**
 * The events of one message (one domain) as packs whose JSON stays within `maxBytes`, at most
 * MAX_EVENTS_PER_PACK each. Events of one kind are packed together: they share the most (only
 * accepted events carry the recipient list, for one). Each event must fit a pack alone: callers
 * bound events (MAX_EVENT_BYTES).
 */
export function packEvents(domain: string, events: MailgunEvent[], maxBytes: number): EventPack[] {
  const kinds = new Map<string, MailgunEvent[]>();
  for (const event of events) {
    const kind = kinds.get(event.event);
    if (kind) kind.push(event);
    else kinds.set(event.event, [event]);
  }
  return [...kinds.values()].flatMap((kind) => packKind(domain, kind, maxBytes));
}

function packKind(domain: string, events: MailgunEvent[], maxBytes: number): EventPack[] {
  const { common, deltas } = splitEvents(events);
  const frame = utf8ByteLength(JSON.stringify({ type: "events", v: 1, domain, common, events: [] }));
  const packs: EventPack[] = [];
  let current: Json[] = [];
  let bytes = frame;
  for (const delta of deltas) {
    const size = utf8ByteLength(JSON.stringify(delta)) + 1; // and its comma
    if (current.length > 0 && (current.length === MAX_EVENTS_PER_PACK || bytes + size > maxBytes)) {
      packs.push({ type: "events", v: 1, domain, common, events: current });
      current = [];
      bytes = frame;
    }
    if (frame + size > maxBytes) throw new RangeError(`an event of ${frame + size} bytes does not fit a queue message`);
    current.push(delta);
    bytes += size;
  }
  packs.push({ type: "events", v: 1, domain, common, events: current });
  return packs;
}

/**
 * An upper bound on the JSON bytes of each event, from the split: the common part plus the
 * event's own part (merging two objects' JSON never makes it longer than both together).
 */
export function eventByteBounds(events: MailgunEvent[]): number[] {
  const { common, deltas } = splitEvents(events);
  const commonBytes = utf8ByteLength(JSON.stringify(common));
  return deltas.map((delta) => commonBytes + utf8ByteLength(JSON.stringify(delta)));
}
