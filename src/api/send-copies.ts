// Builds every recipient's copy of an accepted message and packs the copies to deliver into
// delivery jobs of up to 100 recipients: inside the queue message when the pack fits one,
// otherwise in one R2 object per pack. Copies are built one at a time and a pack is written out
// once full, so memory holds at most one pack (MAX_PACK_BYTES) whatever the send's size.
// Bindings: MESSAGES (outgoing packs), TRACKING_SECRET (links, VERP).
import type { SendingDomain } from "../db/domains";
import { outgoingPackKey, putOutgoingPack, type PackCopy } from "../db/outgoing-packs";
import { MAX_PACK_COPIES, type DeliveryPackJob, type PackFacts } from "../domain/delivery-job";
import { MAX_QUEUE_BODY_BYTES } from "../domain/queue-messages";
import type { EffectiveTracking } from "../domain/tracking-settings";
import { jsonByteLength } from "../domain/utf8";
import { verpAddress } from "../domain/verp";
import type { Env } from "../env";
import { composeForRecipient, type RecipientFacts } from "./compose-message";
import type { MessageRequest } from "./message-form";
import type { OwnFacts } from "./send-plan";

/** MIME texts in one pack at most (a copy larger than this is a pack of its own). Unit: bytes. */
const MAX_PACK_BYTES = 16 * 1024 * 1024;

export interface CopyToBuild {
  facts: RecipientFacts;
  /** What this copy's events have of their own, beside the pack's facts. */
  own: OwnFacts;
  /** False for a suppressed recipient or in test mode: built (for its size), never delivered. */
  deliver: boolean;
}

export interface MessageContext {
  messageId: string;
  issuedAt: number;
  tracking: EffectiveTracking;
  date: string;
  acceptedAt: number;
  notBefore: number;
}

/** Builds every copy; returns each copy's size (in `copies` order) and the delivery jobs to queue. */
export async function buildCopies(
  env: Env,
  domain: SendingDomain,
  request: MessageRequest,
  copies: CopyToBuild[],
  message: MessageContext,
  packFacts: PackFacts,
): Promise<{ sizes: number[]; jobs: DeliveryPackJob[] }> {
  const sizes: number[] = [];
  const jobs: DeliveryPackJob[] = [];
  let pack: PackCopy[] = [];
  let packBytes = 0;
  const flush = async () => {
    if (pack.length === 0) return;
    const job: DeliveryPackJob = {
      type: "delivery",
      v: 2,
      domain: domain.name,
      messageId: message.messageId,
      acceptedAt: message.acceptedAt,
      notBefore: message.notBefore,
      attempt: 1,
      recipients: pack.map((c) => c.recipient),
    };
    const inline = { ...job, pack: { facts: packFacts, copies: pack } };
    if (packBytes <= MAX_QUEUE_BODY_BYTES && jsonByteLength(inline) <= MAX_QUEUE_BODY_BYTES) jobs.push(inline);
    else {
      const packKey = outgoingPackKey(domain.name, message.messageId, jobs.length);
      await putOutgoingPack(env.MESSAGES, packKey, packFacts, pack);
      jobs.push({ ...job, packKey });
    }
    pack = [];
    packBytes = 0;
  };
  for (const copy of copies) {
    const { mime, size } = await composeForRecipient(env, domain, request, copy.facts, message);
    sizes.push(size);
    if (!copy.deliver) continue;
    if (pack.length === MAX_PACK_COPIES || (pack.length > 0 && packBytes + size > MAX_PACK_BYTES)) await flush();
    const recipient = copy.facts.recipient.address;
    const from = await verpAddress({ domain: domain.name, messageId: message.messageId, recipient }, env.TRACKING_SECRET);
    pack.push({ recipient, from, size, ...copy.own, mime });
    packBytes += size;
  }
  await flush();
  return { sizes, jobs };
}
