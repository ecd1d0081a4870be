// The limits of the suppression lists, defined once for both sides of the Durable Object boundary:
// the Suppressions API checks them on every carrier (form, JSON, CSV, path, query) before calling
// the domain's DomainState, which checks them again on whatever reaches it. Pure.

/**
 * Longest address (also an allowlist value, a search term or a page boundary), in UTF-8 bytes:
 * RFC 5321's local part (64 octets, §4.5.3.1.1) + "@" + domain (255 octets, §4.5.3.1.2). RFC 5321's
 * path limit (256 octets with the angle brackets, §4.5.3.1.3) would make it 254; lists keep 320 so
 * that no record stored under the earlier limit of 320 becomes unreachable.
 */
export const MAX_ADDRESS_BYTES = 320;
/** Longest tag an unsubscribe names, in UTF-8 bytes (Mailgun's own tags are at most 128 ASCII characters). */
export const MAX_TAG_BYTES = 256;
/** Tags one unsubscribe record may name. */
export const MAX_TAGS_PER_UNSUBSCRIBE = 100;
/** Records per write: Mailgun's limit for one JSON array, and the CSV import's chunk. */
export const MAX_SUPPRESSION_BATCH = 1000;
/** Longest bounce `error` or allowlist `reason`, in UTF-8 bytes. */
export const MAX_NOTE_BYTES = 2000;
/** Recipients one send-path check covers: Mailgun's 1,000 recipients of a message. */
export const MAX_RECIPIENTS_PER_CHECK = 1000;
