// Compose packs: the recipients of an accepted message, split into delivery queue messages for the
// consumer to build and deliver their copies (src/consumers/compose.ts). A pack holds up to
// MAX_PACK_COPIES recipients, at most MAX_PACK_CONTENT_BYTES of their content and at most
// MAX_QUEUE_BODY_BYTES of JSON: a 1,000-recipient send is about 10 queue messages.
import { type ComposePackJob, type ComposeRecipient, MAX_PACK_CONTENT_BYTES, MAX_PACK_COPIES } from "./delivery-job";
import { MAX_QUEUE_BODY_BYTES } from "./queue-messages";
import { jsonByteLength } from "./utf8";

/** A recipient to pack, with the bytes of its copy's content (send-plan.ts measures them). */
export interface RecipientToPack extends ComposeRecipient {
  contentBytes: number;
}

export type PackBase = Omit<ComposePackJob, "type" | "v" | "part" | "attempt" | "recipients">;

export function composePacks(base: PackBase, recipients: RecipientToPack[]): ComposePackJob[] {
  const frame = (part: number): ComposePackJob => ({ type: "delivery", v: 3, ...base, part, attempt: 1, recipients: [] });
  const frameBytes = jsonByteLength(frame(Number.MAX_SAFE_INTEGER));
  const packs: ComposePackJob[] = [];
  let pack = frame(0);
  let content = 0;
  let bytes = frameBytes;
  for (const { contentBytes, ...recipient } of recipients) {
    const entryBytes = jsonByteLength(recipient) + 1; // and its comma
    const full = pack.recipients.length === MAX_PACK_COPIES || content + contentBytes > MAX_PACK_CONTENT_BYTES || bytes + entryBytes > MAX_QUEUE_BODY_BYTES;
    if (pack.recipients.length > 0 && full) {
      packs.push(pack);
      pack = frame(packs.length);
      content = 0;
      bytes = frameBytes;
    }
    pack.recipients.push(recipient);
    content += contentBytes;
    bytes += entryBytes;
  }
  if (pack.recipients.length > 0) packs.push(pack);
  return packs;
}
