// Mailgun's stats items from rollup counters: the nested shape of GET /v3/{domain}/stats/total,
// one item per bucket (zero-filled), each holding only the requested events. Pure.
import { type Counts, STATS_COUNTERS, zeroCounts } from "./stats-counters";
import { bucketStart, formatStatsDate, type Resolution } from "./stats-time";

export const STATS_EVENTS = ["accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained", "stored"] as const;
export type StatsEvent = (typeof STATS_EVENTS)[number];

function eventStats(event: StatsEvent, c: Counts): Record<string, unknown> {
  switch (event) {
    case "accepted":
      return { incoming: c.accepted_incoming, outgoing: c.accepted_outgoing, total: c.accepted_incoming + c.accepted_outgoing };
    case "delivered":
      // Tidings has no "optimized" delivery (Mailgun's send-time optimization): always 0.
      return { smtp: c.delivered_smtp, http: c.delivered_http, optimized: 0, total: c.delivered_smtp + c.delivered_http };
    case "failed":
      return {
        temporary: { espblock: c.failed_temporary_espblock, total: c.failed_temporary },
        permanent: {
          bounce: c.failed_permanent_bounce,
          "delayed-bounce": c.failed_permanent_delayed_bounce,
          "suppress-bounce": c.failed_permanent_suppress_bounce,
          "suppress-unsubscribe": c.failed_permanent_suppress_unsubscribe,
          "suppress-complaint": c.failed_permanent_suppress_complaint,
          webhook: 0,
          optimized: 0,
          total: c.failed_permanent,
        },
      };
    case "opened":
      return { total: c.opened, unique: c.opened_unique };
    case "clicked":
      return { total: c.clicked, unique: c.clicked_unique };
    case "unsubscribed":
      return { total: c.unsubscribed };
    case "complained":
      return { total: c.complained };
    case "stored":
      return { total: 0 }; // Tidings stores no inbound messages
  }
}

export function addCounts(into: Counts, row: Partial<Counts>): void {
  for (const name of STATS_COUNTERS) into[name] += row[name] ?? 0;
}

/**
 * One item per bucket of `buckets` (month buckets fold the daily rows they hold), in time order,
 * with zeros where nothing happened, as Mailgun answers.
 */
export function shapeStats(
  rows: Array<Partial<Counts> & { bucket?: number }>,
  buckets: number[],
  resolution: Resolution,
  events: StatsEvent[],
): Array<Record<string, unknown>> {
  // Only buckets with rows get their own counts (two months of hours is 1,464 buckets).
  const byBucket = new Map<number, Counts>();
  for (const row of rows) {
    const bucket = bucketStart(row.bucket ?? 0, resolution);
    let counts = byBucket.get(bucket);
    if (!counts) byBucket.set(bucket, (counts = zeroCounts()));
    addCounts(counts, row);
  }
  const zero = zeroCounts();
  return buckets.map((bucket) => {
    const counts = byBucket.get(bucket) ?? zero;
    const item: Record<string, unknown> = { time: formatStatsDate(bucket) };
    for (const event of events) item[event] = eventStats(event, counts);
    return item;
  });
}
