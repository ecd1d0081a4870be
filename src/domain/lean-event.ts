// How an event shard stores an event's body (migrations-events/0003, docs/storage.md "events"):
// lean, and given back byte for byte. What every event of one message repeats (its tags, user
// variables and message headers) is its "part", stored once per shard (event_parts) and shared by
// reference; the rest of the body leaves out the fields its row already holds as columns (id,
// timestamp, event, recipient) and is compressed. Both are raw deflate (node:zlib, which workerd
// implements natively) with a preset dictionary of the event JSON's own vocabulary: at a few
// hundred bytes of JSON each, deflate alone saves a third, with the dictionary five sixths (the
// runtime's CompressionStream takes no dictionary). Pure: no bindings.
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { EventRow } from "./tracking-event";

/**
 * The first byte of every stored blob: its format, i.e. which dictionary it was compressed with.
 * A stored blob is never rewritten, so a changed dictionary must come with a new format number,
 * and the old one stays readable.
 */
const FORMAT_V1 = 1;

/**
 * The vocabulary of Mailgun-shaped events (send-events.ts, tracking-event.ts, client-info.ts,
 * event-packs.ts), most frequent last: deflate reaches back into the dictionary as into earlier text, and nearer
 * matches cost fewer bits. Never edit: FORMAT_V1's blobs are only readable with these bytes.
 */
const DICTIONARY_V1 = new TextEncoder().encode(
  [
    // Values a few events carry.
    '"storage":{"key":"","url":"https://"},"enhanced-code":"","bounce-code":"","retry-seconds":600,"method":"smtp",',
    '"reason":"suppress-bounce","reason":"suppress-unsubscribe","reason":"suppress-complaint","reason":"espblock","reason":"old",',
    '"client-name":"Thunderbird","client-name":"Yahoo","client-name":"Edge","client-name":"Firefox","client-name":"Safari","client-os":"Linux",',
    '"client-os":"Android","client-os":"OS X","client-type":"mobile browser","device-type":"tablet","device-type":"unknown","bot":"apple","bot":"generic",',
    '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",',
    '"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",',
    '"recipient-domain":"hotmail.com","recipient-domain":"icloud.com","recipient-domain":"outlook.com","recipient-domain":"yahoo.com",',
    // Each kind of event as the send path and the tracking edge build it (send-events.ts, tracking-event.ts),
    // its cut fields 0, rarest first.
    '{"id":0,"event":0,"timestamp":0,"log-level":"warn","recipient":0,"recipient-domain":"gmail.com","message":{"headers":0,"size":20000},"tags":0,"campaigns":[],"user-variables":0,"flags":{"is-test-mode":false}}',
    '{"id":0,"event":0,"timestamp":0,"log-level":"info","recipient":0,"recipient-domain":"gmail.com","ip":"","geolocation":{"country":"US","region":"Unknown","city":"Unknown"},"client-info":{"client-name":"Chrome","client-os":"Windows","client-type":"browser","device-type":"desktop","user-agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","bot":""},"message":{"headers":0},"tags":0,"campaigns":[],"user-variables":0}',
    '{"id":0,"event":0,"timestamp":0,"log-level":"warn","recipient":0,"recipient-domain":"gmail.com","message":{"headers":0,"size":20000},"tags":0,"campaigns":[],"user-variables":0,"severity":"temporary","reason":"generic","envelope":{"transport":"smtp","targets":""},"flags":{"is-authenticated":true,"is-test-mode":false,"is-delayed-bounce":false},"delivery-status":{"code":421,"message":"4.7.0 Try again later","description":"","attempt-no":1,"session-seconds":0.4,"mx-host":"","tls":true,"retry-seconds":600}}',
    '{"id":0,"event":0,"timestamp":0,"log-level":"error","recipient":0,"recipient-domain":"gmail.com","message":{"headers":0,"size":20000},"tags":0,"campaigns":[],"user-variables":0,"severity":"permanent","reason":"bounce","envelope":{"transport":"smtp","targets":""},"flags":{"is-authenticated":true,"is-test-mode":false,"is-delayed-bounce":false},"delivery-status":{"code":550,"message":"5.1.1 The email account that you tried to reach does not exist","description":"","attempt-no":1,"session-seconds":0.4,"mx-host":"","tls":true}}',
    '{"id":0,"event":0,"timestamp":0,"log-level":"info","recipient":0,"recipient-domain":"gmail.com","ip":"","geolocation":{"country":"US","region":"Unknown","city":"Unknown"},"client-info":{"client-name":"Apple Mail","client-os":"iOS","client-type":"email client","device-type":"mobile","user-agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148","bot":""},"message":{"headers":0},"tags":0,"campaigns":[],"user-variables":0,"url":"https://www.example.com/?utm_source=newsletter&utm_medium=email&utm_campaign="}',
    '{"id":0,"event":0,"timestamp":0,"log-level":"info","recipient":0,"recipient-domain":"gmail.com","ip":"","geolocation":{"country":"US","region":"Unknown","city":"Unknown"},"client-info":{"client-name":"Gmail","client-os":"Windows","client-type":"email client","device-type":"desktop","user-agent":"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)","bot":"gmail"},"message":{"headers":0},"tags":0,"campaigns":[],"user-variables":0}',
    '{"id":0,"event":0,"timestamp":0,"log-level":"info","recipient":0,"recipient-domain":"gmail.com","ip":"","geolocation":{"country":"US","region":"Unknown","city":"Unknown"},"client-info":{"client-name":"Outlook","client-os":"Windows","client-type":"email client","device-type":"desktop","user-agent":"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0; Pro)","bot":""},"message":{"headers":0},"tags":0,"campaigns":[],"user-variables":0}',
    '{"id":0,"event":0,"timestamp":0,"log-level":"info","recipient":0,"recipient-domain":"gmail.com","message":{"headers":0,"size":20000,"attachments":[],"recipients":[""]},"tags":0,"campaigns":[],"user-variables":0,"method":"http","envelope":{"sender":"bounce@","transport":"","targets":""},"flags":{"is-authenticated":true,"is-test-mode":false}}',
    '{"id":0,"event":0,"timestamp":0,"log-level":"info","recipient":0,"recipient-domain":"gmail.com","message":{"headers":0,"size":20000},"tags":0,"campaigns":[],"user-variables":0,"envelope":{"transport":"smtp","targets":""},"flags":{"is-authenticated":true,"is-test-mode":false},"delivery-status":{"code":250,"message":"OK","description":"","attempt-no":1,"session-seconds":0.4,"mx-host":"","tls":true}}',
    // Accepted and delivered as the consumer stores them after a queue pack (event-packs.ts: what a
    // pack's events share first, then each one's own).
    '{"event":0,"timestamp":0,"log-level":"info","tags":0,"campaigns":[],"user-variables":0,"method":"http","flags":{"is-authenticated":true,"is-test-mode":false},"message":{"size":20000,"attachments":[],"headers":0,"recipients":[""]},"id":0,"recipient":0,"recipient-domain":"gmail.com","envelope":{"sender":"bounce@","transport":"","targets":""}}',
    '{"event":0,"timestamp":0,"log-level":"info","tags":0,"campaigns":[],"user-variables":0,"flags":{"is-authenticated":true,"is-test-mode":false},"delivery-status":{"code":250,"message":"OK","description":"","attempt-no":1,"session-seconds":0.4,"mx-host":"","tls":true},"message":{"size":20000,"headers":0},"id":0,"recipient":0,"recipient-domain":"gmail.com","envelope":{"transport":"smtp","targets":""}}',
    // A part: [tags, user variables, headers with their columns cut, which].
    '[["transactional","newsletter","campaign-"],{"customer-id":"","order-id":"","utm-campaign":"","locale":"en-US"},{"to":0,"from":0,"subject":0,"message-id":0},15]',
  ].join(""),
);

/**
 * Event names as a lean shard's `event` column holds them: a byte instead of the name, in the row and
 * in events_by_type. Never renumber (stored rows keep their codes); a name not here is stored as it is.
 */
const EVENT_CODES: ReadonlyMap<string, number> = new Map([
  ["accepted", 1],
  ["rejected", 2],
  ["delivered", 3],
  ["failed", 4],
  ["opened", 5],
  ["clicked", 6],
  ["unsubscribed", 7],
  ["complained", 8],
  ["stored", 9],
]);
const EVENT_NAMES: ReadonlyMap<number, string> = new Map([...EVENT_CODES].map(([name, code]) => [code, name]));

/** An event name as the `event` column stores it. */
export function eventCode(name: string): number | string {
  return EVENT_CODES.get(name) ?? name;
}

/** The `event` column back to the name. */
export function eventName(stored: number | string): string {
  return typeof stored === "number" ? (EVENT_NAMES.get(stored) ?? String(stored)) : stored;
}

/** Characters of a Message-ID before its "@" (its own, unique part) that messageKey mixes. */
const MESSAGE_KEY_CHARACTERS = 8;

/**
 * The key a lean shard finds a part's Message-ID by (event_parts_by_message): 4 bytes in the row and
 * the index instead of the ~50 of the text. Its length and the code points of the 8 characters
 * before the first "@" (the last 8 when there is none), mixed base 131 modulo 2^31: SQL can compute
 * it too (MESSAGE_KEY_SQL), for rows that exist before any Worker code sees them (0003's copy).
 * Keys may collide; the filter still compares the Message-ID itself.
 */
export function messageKey(messageId: string): number {
  const chars = Array.from(messageId);
  const at = chars.indexOf("@");
  const end = at < 0 ? chars.length : at;
  let key = chars.length;
  for (let k = 1; k <= MESSAGE_KEY_CHARACTERS; k++) key = (key * 131 + (end - k >= 0 ? chars[end - k]!.codePointAt(0)! : 0)) % 2147483648;
  return key;
}

/** messageKey in SQL, over the column or expression `m` (SQLite's length, instr and substr count code points too). */
export function messageKeySql(m: string): string {
  const end = `(CASE instr(${m}, '@') WHEN 0 THEN length(${m}) + 1 ELSE instr(${m}, '@') END)`;
  let key = `length(${m})`;
  for (let k = 1; k <= MESSAGE_KEY_CHARACTERS; k++)
    key = `((${key}) * 131 + CASE WHEN ${end} - ${k} >= 1 THEN unicode(substr(${m}, ${end} - ${k}, 1)) ELSE 0 END) % 2147483648`;
  return key;
}

/** Which fields of a body were cut out of its stored rest (its flags byte), to be put back on read. */
const CUT_ID = 1;
const CUT_TIMESTAMP = 2;
const CUT_EVENT = 4;
const CUT_RECIPIENT = 8;
const CUT_TAGS = 16;
const CUT_USER_VARIABLES = 32;
const CUT_HEADERS = 64;

/** The message headers a part keeps as columns of event_parts (for the filters), each cut from its JSON when it is the column's text. */
const HEADER_COLUMNS = [
  ["message-id", "messageId"],
  ["subject", "subject"],
  ["from", "from"],
  ["to", "to"],
] as const;

/** A part's columns (event_parts): what the message-id, subject, from and to filters read. */
export interface PartColumns {
  messageId: string | null;
  subject: string | null;
  from: string | null;
  to: string | null;
}

export interface LeanEvent {
  /** The rest of the body: [FORMAT, flags, ...deflated JSON]. */
  rest: Uint8Array;
  /**
   * The part's JSON, [tags, user variables, headers, which headers are columns (bit i: HEADER_COLUMNS[i])],
   * null where the body had none: with `columns`, its identity.
   */
  partJson: string;
  columns: PartColumns;
}

/** A part as stored: [FORMAT, ...deflated partJson] (compressed only where it is written: once per batch). */
export function storedPart(partJson: string): Uint8Array {
  return deflate(partJson, [FORMAT_V1]);
}

function deflate(json: string, header: number[]): Uint8Array {
  const packed = deflateRawSync(new TextEncoder().encode(json), { dictionary: DICTIONARY_V1 });
  const out = new Uint8Array(header.length + packed.length);
  out.set(header);
  out.set(packed, header.length);
  return out;
}

function inflate(blob: Uint8Array, offset: number): string {
  if (blob[0] !== FORMAT_V1) throw new RangeError(`unknown stored event format ${blob[0]}`);
  return new TextDecoder().decode(inflateRawSync(blob.subarray(offset), { dictionary: DICTIONARY_V1 }));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A row's body split into its stored rest and its part. Cut fields keep their place in the rest
 * as a 0 (so the key order, and with it the JSON text, comes back unchanged) and are named in
 * the flags byte, so a 0 the body really held is never mistaken for one.
 */
export function leanEvent(row: EventRow): LeanEvent {
  const body = row.body as unknown as Record<string, unknown>;
  const rest: Record<string, unknown> = { ...body };
  let flags = 0;
  const cut = (key: string, flag: number) => {
    rest[key] = 0;
    flags |= flag;
  };
  if (body.id === row.id) cut("id", CUT_ID);
  if (typeof body.timestamp === "number" && body.timestamp === row.ts / 1e6) cut("timestamp", CUT_TIMESTAMP);
  if (body.event === row.event) cut("event", CUT_EVENT);
  if (body.recipient === row.recipient) cut("recipient", CUT_RECIPIENT);
  const tags = body.tags !== undefined ? body.tags : null;
  if (tags !== null) cut("tags", CUT_TAGS);
  const userVariables = body["user-variables"] !== undefined ? body["user-variables"] : null;
  if (userVariables !== null) cut("user-variables", CUT_USER_VARIABLES);
  let headers: Record<string, unknown> | null = null;
  let cutHeaders = 0;
  const columns: PartColumns = { messageId: row.messageId, subject: row.subject, from: row.from, to: row.to };
  if (isObject(body.message) && isObject(body.message.headers)) {
    rest.message = { ...body.message, headers: 0 };
    flags |= CUT_HEADERS;
    headers = { ...body.message.headers };
    for (const [i, [header, column]] of HEADER_COLUMNS.entries()) {
      const text = columns[column];
      if (typeof text === "string" && headers[header] === text) {
        headers[header] = 0;
        cutHeaders |= 1 << i;
      }
    }
  }
  const partJson = JSON.stringify([tags, userVariables, headers, cutHeaders]);
  return { rest: deflate(JSON.stringify(rest), [FORMAT_V1, flags]), partJson, columns };
}

/** What the shard gives back for one event: its columns, its rest, its part (inflated once per page by the caller's cache). */
export interface StoredLeanEvent {
  id: string;
  ts: number;
  event: string;
  recipient: string;
  rest: Uint8Array;
  part: StoredPart;
  columns: PartColumns;
}

/**
 * A JSON text as message metadata keeps it (db/messages.ts): as it is when short, else [FORMAT,
 * ...deflated] with the same dictionary. A message's ~1 KB of user variables deflated keeps its row
 * under SQLite's ~1,000-byte local payload of a WITHOUT ROWID table, which a longer row overflows
 * into a page of its own (4 KB).
 */
export function packedJson(json: string): string | Uint8Array {
  return json.length < PACK_FROM_CHARS ? json : deflate(json, [FORMAT_V1]);
}

/** Shorter JSON is kept as text: deflate would not save its header's worth. Unit: UTF-16 code units. */
const PACK_FROM_CHARS = 96;

/** A value packedJson made, as D1 gives it back (text, or a BLOB as bytes), to its JSON text. */
export function unpackedJson(value: string | ArrayBuffer | number[] | Uint8Array): string {
  if (typeof value === "string") return value;
  const bytes = value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : Uint8Array.from(value);
  return inflate(bytes, 1);
}

/** A part as leanEvent made its JSON. */
export type StoredPart = [unknown, unknown, Record<string, unknown> | null, number];

/** A stored part back to its JSON's value. */
export function readPart(blob: Uint8Array): StoredPart {
  return JSON.parse(inflate(blob, 1)) as StoredPart;
}

/** The body as it was given to leanEvent (JSON-equal, and the same text once stringified). */
export function eventBody(stored: StoredLeanEvent): Record<string, unknown> {
  const flags = stored.rest[1]!;
  const body = JSON.parse(inflate(stored.rest, 2)) as Record<string, unknown>;
  const [tags, userVariables, headers, cutHeaders] = stored.part;
  if (flags & CUT_ID) body.id = stored.id;
  if (flags & CUT_TIMESTAMP) body.timestamp = stored.ts / 1e6;
  if (flags & CUT_EVENT) body.event = stored.event;
  if (flags & CUT_RECIPIENT) body.recipient = stored.recipient;
  if (flags & CUT_TAGS) body.tags = tags;
  if (flags & CUT_USER_VARIABLES) body["user-variables"] = userVariables;
  if (flags & CUT_HEADERS) {
    const restored = { ...headers };
    for (const [i, [header, column]] of HEADER_COLUMNS.entries()) if (cutHeaders & (1 << i)) restored[header] = stored.columns[column];
    (body.message as Record<string, unknown>).headers = restored;
  }
  return body;
}
