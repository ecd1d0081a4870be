// The Metrics API's count and rate metrics, computed from rollup counters. Counts are sums of
// counter columns; rates are Mailgun's four-decimal strings ("0.8300"), 0 when the base is 0.
// Pure; no bindings.
import type { Counts } from "./stats-counters";

const accepted = (c: Counts) => c.accepted_incoming + c.accepted_outgoing;
const delivered = (c: Counts) => c.delivered_smtp + c.delivered_http;
const failed = (c: Counts) => c.failed_temporary + c.failed_permanent;
const hardBounces = (c: Counts) => c.failed_permanent_bounce + c.failed_permanent_delayed_bounce;

const COUNTS: Record<string, (c: Counts) => number> = {
  accepted_count: accepted,
  accepted_incoming_count: (c) => c.accepted_incoming,
  accepted_outgoing_count: (c) => c.accepted_outgoing,
  delivered_count: delivered,
  delivered_smtp_count: (c) => c.delivered_smtp,
  delivered_http_count: (c) => c.delivered_http,
  delivered_optimized_count: () => 0,
  opened_count: (c) => c.opened,
  unique_opened_count: (c) => c.opened_unique,
  clicked_count: (c) => c.clicked,
  unique_clicked_count: (c) => c.clicked_unique,
  unsubscribed_count: (c) => c.unsubscribed,
  complained_count: (c) => c.complained,
  failed_count: failed,
  temporary_failed_count: (c) => c.failed_temporary,
  permanent_failed_count: (c) => c.failed_permanent,
  temporary_failed_esp_block_count: (c) => c.failed_temporary_espblock,
  bounced_count: hardBounces,
  hard_bounces_count: hardBounces,
  delayed_bounce_count: (c) => c.failed_permanent_delayed_bounce,
  suppressed_bounces_count: (c) => c.failed_permanent_suppress_bounce,
  suppressed_unsubscribed_count: (c) => c.failed_permanent_suppress_unsubscribe,
  suppressed_complaints_count: (c) => c.failed_permanent_suppress_complaint,
  permanent_failed_old_count: (c) => c.failed_permanent_old,
};

/** Rate = part / base. Engagement is per delivered message; failures are per accepted one. */
const RATES: Record<string, [(c: Counts) => number, (c: Counts) => number]> = {
  delivered_rate: [delivered, accepted],
  opened_rate: [(c) => c.opened, delivered],
  unique_opened_rate: [(c) => c.opened_unique, delivered],
  clicked_rate: [(c) => c.clicked, delivered],
  unique_clicked_rate: [(c) => c.clicked_unique, delivered],
  unsubscribed_rate: [(c) => c.unsubscribed, delivered],
  complained_rate: [(c) => c.complained, delivered],
  bounce_rate: [hardBounces, accepted],
  fail_rate: [failed, accepted],
  permanent_fail_rate: [(c) => c.failed_permanent, accepted],
  temporary_fail_rate: [(c) => c.failed_temporary, accepted],
};

export function isMetric(name: string): boolean {
  return Object.hasOwn(COUNTS, name) || Object.hasOwn(RATES, name);
}

export function computeMetrics(names: string[], counts: Counts): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const name of names) {
    const count = COUNTS[name];
    if (count) {
      out[name] = count(counts);
      continue;
    }
    const [part, base] = RATES[name]!;
    const denominator = base(counts);
    out[name] = (denominator === 0 ? 0 : part(counts) / denominator).toFixed(4);
  }
  return out;
}
