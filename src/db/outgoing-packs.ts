// Outgoing packs in R2: the copies of up to 100 recipients of one message, when they do not fit
// inside their delivery queue message. All R2 access for them is here. Binding: MESSAGES.
// Layout (docs/storage.md, "R2"): outgoing/<domain>/<message id>/<n>; the object is one line of
// JSON (the pack's facts and, per copy, its facts and where its MIME text lies), a newline, then
// the MIME texts one after another. The delivery consumer reads it once per attempt and deletes
// it once no recipient of the pack is left to retry.

import { type CopyFacts, copyFactsSchema, MAX_PACK_COPIES, type PackFacts, packFactsSchema } from "../domain/delivery-job";
import { utf8ByteLength } from "../domain/utf8";
import * as z from "../domain/zod";

const PREFIX = "outgoing/";

const headerSchema = z.object({
  v: z.literal(1),
  facts: packFactsSchema,
  copies: z
    .array(z.extend(copyFactsSchema, { offset: z.int().check(z.nonnegative()), length: z.int().check(z.nonnegative()) }))
    .check(z.minLength(1), z.maxLength(MAX_PACK_COPIES)),
});

export type PackCopy = CopyFacts & { mime: string };

export function outgoingPackKey(domain: string, messageId: string, index: number): string {
  return `${PREFIX}${domain}/${messageId}/${index}`;
}

export async function putOutgoingPack(bucket: R2Bucket, key: string, facts: PackFacts, copies: PackCopy[]): Promise<void> {
  let offset = 0;
  const header = {
    v: 1,
    facts,
    copies: copies.map(({ mime, ...copy }) => {
      const length = utf8ByteLength(mime);
      const placed = { ...copy, offset, length };
      offset += length;
      return placed;
    }),
  };
  // A Blob of parts: the texts are encoded once, into the object, with no joined copy in between.
  await bucket.put(key, new Blob([JSON.stringify(header), "\n", ...copies.map((c) => c.mime)]), { httpMetadata: { contentType: "application/octet-stream" } });
}

/** The pack's facts and copies, or null when the object is gone or not a pack. */
export async function getOutgoingPack(bucket: R2Bucket, key: string): Promise<{ facts: PackFacts; copies: PackCopy[] } | null> {
  const object = await bucket.get(key);
  if (!object) return null;
  const bytes = new Uint8Array(await object.arrayBuffer());
  const newline = bytes.indexOf(0x0a);
  if (newline < 0) return null;
  const decoder = new TextDecoder();
  let header;
  try {
    header = headerSchema.safeParse(JSON.parse(decoder.decode(bytes.subarray(0, newline))));
  } catch {
    return null;
  }
  if (!header.success) return null;
  const body = bytes.subarray(newline + 1);
  const copies: PackCopy[] = [];
  for (const { offset, length, ...copy } of header.data.copies) {
    if (offset + length > body.length) return null;
    copies.push({ ...copy, mime: decoder.decode(body.subarray(offset, offset + length)) });
  }
  return { facts: header.data.facts, copies };
}

export async function deleteOutgoingPack(bucket: R2Bucket, key: string): Promise<void> {
  await bucket.delete(key);
}
