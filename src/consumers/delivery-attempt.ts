// One attempt of a delivery job, whichever format the job came in: a pack of recipients with its
// copies inline or in R2 (v2), or one recipient (v1, queued before packs); a compose pack (v3)
// becomes one in src/consumers/compose.ts. Bindings: MESSAGES.
import { deleteOutgoingPack, getOutgoingPack, type PackCopy } from "../db/outgoing-packs";
import type { DeliveryJob, PackFacts, ParsedDeliveryJob } from "../domain/delivery-job";
import type { Env } from "../env";

/** What one attempt needs to know of its job, whichever format it came in. */
export interface Attempt {
  domain: string;
  messageId: string;
  acceptedAt: number;
  attempt: number;
  facts: PackFacts;
  /** The copies to deliver now; null when the pack is no longer stored. */
  copies: PackCopy[] | null;
  /** Recipients this attempt is for: one without a stored copy fails as `old`. */
  recipients: string[];
  /** The job that tries these recipients again at `attempt`. */
  retryJob(recipients: string[], attempt: number): DeliveryJob;
  /** Storage to free once no recipient is left to retry. */
  cleanup?: () => Promise<void>;
}

export async function attemptOf(job: Exclude<ParsedDeliveryJob, { v: 3 }>, env: Env): Promise<Attempt> {
  const common = { domain: job.domain, messageId: job.messageId, acceptedAt: job.acceptedAt, attempt: job.attempt };
  if (job.v === 1) {
    const mime = job.mime ?? (job.mimeKey ? await (await env.MESSAGES.get(job.mimeKey))?.text() : undefined);
    const { headers, tags, userVariables, storage, size } = job.facts;
    return {
      ...common,
      facts: { headers, tags, userVariables, storage },
      copies: mime === undefined ? null : [{ recipient: job.recipient, from: job.from, size, mime }],
      recipients: [job.recipient],
      retryJob: (_, attempt) => ({ ...job, attempt }),
      cleanup: job.mimeKey ? () => env.MESSAGES.delete(job.mimeKey!) : undefined,
    };
  }
  const wanted = new Set(job.recipients);
  if (job.pack) {
    const copies = job.pack.copies.filter((c) => wanted.has(c.recipient));
    return {
      ...common,
      facts: job.pack.facts,
      copies,
      recipients: job.recipients,
      retryJob: (recipients, attempt) => {
        const again = new Set(recipients);
        return { ...job, attempt, recipients, pack: { facts: job.pack!.facts, copies: copies.filter((c) => again.has(c.recipient)) } };
      },
    };
  }
  const packKey = job.packKey!;
  const stored = await getOutgoingPack(env.MESSAGES, packKey);
  return {
    ...common,
    facts: stored?.facts ?? { headers: {}, tags: [], userVariables: {} },
    copies: stored ? stored.copies.filter((c) => wanted.has(c.recipient)) : null,
    recipients: job.recipients,
    retryJob: (recipients, attempt) => ({ ...job, attempt, recipients }),
    cleanup: () => deleteOutgoingPack(env.MESSAGES, packKey),
  };
}
