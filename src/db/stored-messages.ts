// Stored messages (Mailgun's "storage"): one copy of each accepted message, as it was submitted,
// in R2 for STORED_MESSAGE_DAYS, so GET /v3/domains/{d}/messages/{key} can show it and
// POST .../{key} can send it again. All R2 access for them is here. Binding: MESSAGES.
// Layout (docs/storage.md, "R2"): stored/<yyyymmdd>/<domain>/<key>, where the key starts with the
// day, so a lookup needs no index and the purge deletes whole days.

import type { MessageRequest } from "../api/message-form";
import { decodeBase64, encodeBase64, randomId } from "../domain/base64url";
import { utf8ByteLength } from "../domain/utf8";
import * as z from "../domain/zod";

/** How long a stored message can be read or resent (Mailgun's default retention). Unit: days. */
export const STORED_MESSAGE_DAYS = 3;
const DAY_MS = 86_400_000;
const PREFIX = "stored/";
const KEY = /^\d{8}-[A-Za-z0-9_-]{22}$/;

const addressSchema = z.object({ address: z.string(), display: z.string() });
const storedSchema = z.object({
  v: z.literal(1),
  domain: z.string(),
  /** The message id of the accepted message, without angle brackets. */
  messageId: z.string(),
  /** Unix milliseconds. */
  storedAt: z.number(),
  request: z.object({
    from: addressSchema,
    to: z.array(addressSchema),
    cc: z.array(addressSchema),
    bcc: z.array(addressSchema),
    subject: z.string(),
    text: z.optional(z.string()),
    html: z.optional(z.string()),
    attachments: z.array(z.object({ filename: z.string(), contentType: z.string(), inline: z.boolean(), base64: z.string() })),
    tags: z.array(z.string()),
    userVariables: z.record(z.string(), z.unknown()),
    recipientVariables: z.nullable(z.record(z.string(), z.record(z.string(), z.unknown()))),
    customHeaders: z.array(z.tuple([z.string(), z.string()])),
    tracking: z.object({ tracking: z.optional(z.string()), opens: z.optional(z.string()), clicks: z.optional(z.string()), pixelTop: z.optional(z.string()) }),
    testMode: z.boolean(),
    deliverAt: z.number(),
    contentBytes: z.number(),
  }),
});

export interface StoredMessage {
  domain: string;
  messageId: string;
  storedAt: number;
  request: MessageRequest;
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, "");
}

const objectName = (domain: string, key: string) => `${PREFIX}${key.slice(0, 8)}/${domain}/${key}`;
/** R2's longest object name. Unit: UTF-8 bytes. A domain in the path can make a name no message was ever stored under. */
const MAX_R2_KEY_BYTES = 1024;

/** A new storage key for a message stored at `now`; known before the message is stored, for its events. */
export function newStorageKey(now: number): string {
  return `${day(now)}-${randomId()}`;
}

/** Keeps the message as submitted under `key` (newStorageKey); returns the key. */
export async function storeMessage(
  bucket: R2Bucket,
  domain: string,
  messageId: string,
  request: MessageRequest,
  now: number,
  key = newStorageKey(now),
): Promise<string> {
  const { attachments, ...rest } = request;
  const stored = {
    v: 1,
    domain,
    messageId,
    storedAt: now,
    request: {
      ...rest,
      attachments: attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, inline: a.inline, base64: encodeBase64(a.content) })),
    },
  };
  await bucket.put(objectName(domain, key), JSON.stringify(stored), { httpMetadata: { contentType: "application/json" } });
  return key;
}

/** The stored message, or null when the key is malformed, unknown, of another domain or past retention. */
export async function loadStoredMessage(bucket: R2Bucket, domain: string, key: string, now: number): Promise<StoredMessage | null> {
  if (!KEY.test(key)) return null;
  const name = objectName(domain, key);
  if (utf8ByteLength(name) > MAX_R2_KEY_BYTES) return null; // R2 would refuse the name: nothing is stored there
  const object = await bucket.get(name);
  if (!object) return null;
  const parsed = storedSchema.safeParse(await object.json().catch(() => null));
  if (!parsed.success || parsed.data.domain !== domain || parsed.data.storedAt < now - STORED_MESSAGE_DAYS * DAY_MS) return null;
  const { attachments, ...rest } = parsed.data.request;
  return {
    domain,
    messageId: parsed.data.messageId,
    storedAt: parsed.data.storedAt,
    request: {
      ...rest,
      attachments: attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, inline: a.inline, content: decodeBase64(a.base64) })),
    },
  };
}

/** R2 deletes at most this many keys per call, and lists at most this many per page. */
const PAGE = 1000;

/**
 * Deletes the days of stored messages past retention, at most `maxPages` pages of 1,000 objects
 * per run (the rest at the next run). A day is kept until the whole of it is past retention.
 */
export async function purgeStoredMessages(bucket: R2Bucket, now: number, maxPages: number): Promise<{ deleted: number; unfinished: boolean }> {
  const oldestKept = day(now - STORED_MESSAGE_DAYS * DAY_MS);
  const days: string[] = [];
  let cursor: string | undefined;
  do {
    const listing = await bucket.list({ prefix: PREFIX, delimiter: "/", cursor });
    days.push(...listing.delimitedPrefixes.map((p) => p.slice(PREFIX.length, -1)));
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
  let deleted = 0;
  let pages = 0;
  for (const expired of days.filter((d) => d < oldestKept).sort()) {
    for (;;) {
      if (pages >= maxPages) return { deleted, unfinished: true };
      const listing = await bucket.list({ prefix: `${PREFIX}${expired}/`, limit: PAGE });
      pages++;
      if (listing.objects.length === 0) break;
      await bucket.delete(listing.objects.map((o) => o.key));
      deleted += listing.objects.length;
      if (!listing.truncated) break;
    }
  }
  return { deleted, unfinished: false };
}
