// What one event adds to the stats rollups: its counter columns (Mailgun's stats sub-types), its
// hour and day buckets, and its tags as the rollup keeps them. Pure; no bindings.

/** The counter columns of stats_counters and stats_dimensions (migrations/0004_rollups.sql). */
export const STATS_COUNTERS = [
  "accepted_incoming",
  "accepted_outgoing",
  "delivered_smtp",
  "delivered_http",
  "failed_temporary",
  "failed_temporary_espblock",
  "failed_permanent",
  "failed_permanent_bounce",
  "failed_permanent_delayed_bounce",
  "failed_permanent_suppress_bounce",
  "failed_permanent_suppress_unsubscribe",
  "failed_permanent_suppress_complaint",
  "failed_permanent_old",
  "opened",
  "opened_unique",
  "clicked",
  "clicked_unique",
  "unsubscribed",
  "complained",
] as const;
export type StatsCounter = (typeof STATS_COUNTERS)[number];
export type Counts = Record<StatsCounter, number>;

export const zeroCounts = (): Counts => Object.fromEntries(STATS_COUNTERS.map((name) => [name, 0])) as Counts;

/** The facts of a stored event the rollup reads (json_extract'ed from its body). */
export interface RollupEvent {
  domain: string;
  /** Microseconds since the epoch. */
  ts: number;
  event: string;
  severity: string | null;
  reason: string | null;
  messageId: string | null;
  recipient: string;
  isAuthenticated: boolean;
  isDelayedBounce: boolean;
  transport: string | null;
  /** client-info.bot: '' for a person, else apple, gmail or generic; null for non-hit events. */
  bot: string | null;
  device: string | null;
  country: string | null;
  /** recipient-domain, Mailgun's "provider" in tag aggregates. */
  provider: string | null;
  tags: string[];
}

const PERMANENT_BY_REASON: Record<string, StatsCounter> = {
  bounce: "failed_permanent_bounce",
  "suppress-bounce": "failed_permanent_suppress_bounce",
  "suppress-unsubscribe": "failed_permanent_suppress_unsubscribe",
  "suppress-complaint": "failed_permanent_suppress_complaint",
  old: "failed_permanent_old",
};

/**
 * The counters an event increments, uniques aside (those need the seen-set). Mailgun splits
 * accepted by authentication (outgoing = sent by an authenticated sender), delivered by transport,
 * and failures by severity and reason; a delayed bounce counts as such whatever its reason.
 */
export function countersOf(event: RollupEvent): StatsCounter[] {
  switch (event.event) {
    case "accepted":
      return [event.isAuthenticated ? "accepted_outgoing" : "accepted_incoming"];
    case "delivered":
      return [event.transport === "http" ? "delivered_http" : "delivered_smtp"];
    case "failed": {
      if (event.severity === "temporary") return event.reason === "espblock" ? ["failed_temporary", "failed_temporary_espblock"] : ["failed_temporary"];
      // hasOwn: a reason named like a built-in property (constructor) is just an unknown reason.
      const reason = event.reason ?? "";
      const byReason = event.isDelayedBounce
        ? "failed_permanent_delayed_bounce"
        : Object.hasOwn(PERMANENT_BY_REASON, reason)
          ? PERMANENT_BY_REASON[reason]
          : undefined;
      return byReason ? ["failed_permanent", byReason] : ["failed_permanent"];
    }
    case "opened":
    case "clicked":
    case "unsubscribed":
    case "complained":
      return [event.event];
    default:
      return [];
  }
}

/** Opens and clicks are counted once per (message, recipient) as well: Mailgun's `unique`. */
export function uniqueCounterOf(event: string): StatsCounter | null {
  if (event === "opened") return "opened_unique";
  if (event === "clicked") return "clicked_unique";
  return null;
}

const HOUR_S = 3600;
const DAY_S = 86_400;

/** Start of the UTC hour holding `micros`, in unix seconds. */
export const hourBucket = (micros: number): number => Math.floor(micros / 1e6 / HOUR_S) * HOUR_S;
/** Start of the UTC day holding `micros`, in unix seconds. */
export const dayBucket = (micros: number): number => Math.floor(micros / 1e6 / DAY_S) * DAY_S;

/** Mailgun: a domain holds at most 20,000 tags; later ones are dropped (not counted as tags). */
export const MAX_TAGS_PER_DOMAIN = 20_000;

/** Mailgun: tags are case-insensitive ASCII of at most 128 characters. */
export const MAX_TAG_LENGTH = 128;

/**
 * A tag as stats key it: lower-cased, non-ASCII characters stripped (a tag of nothing but unicode
 * is ignored, as Mailgun does), cut to 128 characters; null when nothing is left.
 */
export function normalizeTag(tag: string): string | null {
  const ascii = tag
    .replace(/[^\x20-\x7e]/g, "")
    .trim()
    .toLowerCase()
    .slice(0, MAX_TAG_LENGTH);
  return ascii === "" ? null : ascii;
}

export function normalizeTags(tags: string[]): string[] {
  return [...new Set(tags.map(normalizeTag).filter((tag): tag is string => tag !== null))];
}
