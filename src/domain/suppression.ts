// What suppression means for a recipient: Mailgun's reasons, codes and descriptions for mail that
// is never attempted (mailgun-api.md §2, "failed event specifics").

export type SuppressionReason = "suppress-bounce" | "suppress-unsubscribe" | "suppress-complaint";

export interface SuppressionOutcome {
  reason: SuppressionReason;
  /** Mailgun's own 6xx drop code. */
  code: 605 | 606 | 607;
  description: string;
}

export const SUPPRESSIONS: Record<SuppressionReason, SuppressionOutcome> = {
  "suppress-bounce": { reason: "suppress-bounce", code: 605, description: "Not delivering to previously bounced address" },
  "suppress-unsubscribe": { reason: "suppress-unsubscribe", code: 606, description: "Not delivering to unsubscribed address" },
  "suppress-complaint": { reason: "suppress-complaint", code: 607, description: "Not delivering to a user who marked your messages as spam" },
};

/** What a recipient's records say, gathered in one place. */
export interface RecipientRecords {
  bounced: boolean;
  complained: boolean;
  /** Lower-cased tags the address left; "*" means the whole domain. */
  unsubscribedTags: string[];
}

/**
 * The first suppression that stops a message with these (lower-cased) tags, or null to deliver.
 * Order follows the severity Mailgun reports: a bounce first, then a complaint, then unsubscribes.
 */
export function suppressionFor(records: RecipientRecords, messageTags: string[]): SuppressionOutcome | null {
  if (records.bounced) return SUPPRESSIONS["suppress-bounce"];
  if (records.complained) return SUPPRESSIONS["suppress-complaint"];
  const left = new Set(records.unsubscribedTags);
  if (left.has("*") || messageTags.some((tag) => left.has(tag.toLowerCase()))) return SUPPRESSIONS["suppress-unsubscribe"];
  return null;
}
