// Production-shaped events for the scale figures (issue 12): many domains with a Zipf spread of
// volume, one recipient in a million, a unique Message-ID per message, real mail-client user
// agents, about 1 KB of user variables, three tags, and the send path's failures, complaints and
// unsubscribes at their usual rates. Every body is built by the Worker's own event builders
// (send-events.ts, tracking-event.ts), so rows are exactly what the pipeline stores. Pure and
// seeded: the same options give the same events. Streams in chunks so memory stays flat.
import { acceptedEvent, complainedEvent, deliveredEvent, failedEvent, type MessageFacts } from "../../src/domain/send-events";
import { buildTrackingEvent, type EventRow, toEventRow } from "../../src/domain/tracking-event";
import { prng } from "../../test/support/prng";

export const USER_AGENTS = [
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
  "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
  "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
  "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))",
];
const PROVIDERS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.co.uk", "web.de", "company-mail.example.org", "orange.fr"];
const COUNTRIES = ["US", "GB", "DE", "FR", "NL", "BR", "IN", "JP"];

export interface ProductionShape {
  domains: number;
  /** Events of the biggest domain; domain rank r gets about biggest / r^zipf. */
  biggest: number;
  zipf: number;
  /** Distinct recipients across all domains. */
  recipients: number;
  /** Days the events are spread over, ending at `endMs`. */
  days: number;
  endMs: number;
  seed: number;
}

export const domainName = (rank: number) => `mg.customer${rank}.example.com`;
export const recipientAddress = (n: number) => `person.${n}@${PROVIDERS[n % PROVIDERS.length]}`;
/** One tag in a thousand messages carries: a sparse tag. */
export const RARE_TAG = "vip-winback";
export const DENSE_TAG = "newsletter";
/** The sender's own seed address, on one message in 50 of every domain: a dense recipient. */
export const SEED_RECIPIENT = "seed.list@company-mail.example.org";

/** Events per domain rank (1-based), rounded, at least 1. */
export function domainVolumes(shape: ProductionShape): number[] {
  return Array.from({ length: shape.domains }, (_, i) => Math.max(1, Math.round(shape.biggest / (i + 1) ** shape.zipf)));
}

/** About 1 KB of user variables, as an e-commerce sender attaches them. */
export function userVariables(message: number, rng: ReturnType<typeof prng>): Record<string, unknown> {
  return {
    "customer-id": `cus_${(message * 2654435761) >>> 0}`,
    "order-id": `ORD-${message}`,
    segment: ["active", "lapsed", "new", "vip"][message % 4],
    locale: ["en-US", "en-GB", "de-DE", "fr-FR"][message % 4],
    cart: Array.from({ length: 6 }, (_, i) => ({
      sku: `SKU-${(message + i * 7919) % 100000}`,
      qty: 1 + ((message + i) % 3),
      price: ((message * 13 + i * 101) % 20000) / 100,
    })),
    "utm-campaign": `autumn-${message % 200}`,
    "ab-test": rng.chance(0.5) ? "subject-a" : "subject-b",
    notes: "x".repeat(420),
  };
}

/**
 * The events of every domain in chunks of about `chunk` rows: per message an accepted event, then
 * delivered (or a failure: 5% permanent bounces, 2% temporary), then opens (45% of delivered, 1-3
 * each, a third of them by proxies and scanners), clicks (12%), unsubscribes (5% of opened) and
 * complaints (0.1%). Times spread evenly over the days, messages in order of time.
 */
/**
 * One message of the model: its Message-ID (stamped with the send time), the sender's headers,
 * three tags (a rare one on 1 message in 1,000) and about 1 KB of user variables. `m` counts the
 * domain's messages, `messageNo` all of them.
 */
export function productionMessage(
  at: { domain: string; rank: number; m: number; messageNo: number; sentMs: number; recipient: string },
  rng: ReturnType<typeof prng>,
): MessageFacts {
  const { domain, rank, m, messageNo, sentMs, recipient } = at;
  const campaign = messageNo % 200;
  const tags = [m % 3 === 0 ? "transactional" : DENSE_TAG, `campaign-${campaign}`, rng.chance(0.001) ? RARE_TAG : ["promo", "digest", "reminder"][m % 3]!];
  const stamp = new Date(sentMs).toISOString().replace(/\D/g, "").slice(0, 14);
  return {
    domain,
    messageId: `${stamp}.${messageNo.toString(16)}.${((messageNo * 2654435761) >>> 0).toString(16)}@${domain}`,
    headers: {
      to: recipient,
      from: `Customer ${rank} Store <news@${domain.slice(3)}>`,
      subject: `Autumn sale ${campaign}: up to 30% off wool coats and knitwear`,
    },
    tags,
    userVariables: userVariables(messageNo, rng),
    size: 20_000 + ((messageNo * 37) % 40_000),
  };
}

/**
 * Events per message this model makes on average (accepted, delivered or failed, opens, clicks,
 * unsubscribes, complaints): measured 2.90 over the biggest domain's 200,000. With 2.2, as before,
 * a domain reached its target at three quarters of the span, and its last 6 days held no events.
 */
const EVENTS_PER_MESSAGE = 2.9;

export function* productionEvents(shape: ProductionShape, chunk = 2000): Generator<EventRow[]> {
  const rng = prng(shape.seed);
  const span = shape.days * 86_400_000;
  const volumes = domainVolumes(shape);
  let rows: EventRow[] = [];
  let messageNo = 0;
  for (let rank = 1; rank <= shape.domains; rank++) {
    const domain = domainName(rank);
    let produced = 0;
    const target = volumes[rank - 1]!;
    // Messages spaced so the domain's events fill the span up to endMs: EVENTS_PER_MESSAGE is what
    // this model gives on average (measured), so the target is reached at about the span's end.
    const messages = Math.max(1, Math.round(target / EVENTS_PER_MESSAGE));
    for (let m = 0; m < messages && produced < target; m++, messageNo++) {
      const sentMs = shape.endMs - span + Math.floor(((m + rng.next()) / messages) * span);
      const recipient = m % 50 === 7 ? SEED_RECIPIENT : recipientAddress((messageNo * 7919 + rank * 104729) % shape.recipients);
      const facts = productionMessage({ domain, rank, m, messageNo, sentMs, recipient }, rng);
      const at = (offsetMs: number) => ({ ms: sentMs + offsetMs });
      const push = (row: EventRow) => {
        rows.push(row);
        produced++;
      };
      push(
        toEventRow(domain, acceptedEvent(facts, recipient, { recipients: [recipient], method: "http", sender: `bounce@${domain}`, attachments: [] }, at(0))),
      );
      const outcome = rng.next();
      const status = { code: 250, message: "OK", attemptNo: 1, mxHost: "smtp.relay.example", tls: true, sessionSeconds: 0.4 };
      if (outcome < 0.05) {
        push(
          toEventRow(
            domain,
            failedEvent(
              facts,
              recipient,
              {
                severity: "permanent",
                reason: "bounce",
                status: { ...status, code: 550, message: "5.1.1 The email account that you tried to reach does not exist" },
              },
              at(2000),
            ),
          ),
        );
        continue;
      }
      if (outcome < 0.07) {
        push(
          toEventRow(
            domain,
            failedEvent(
              facts,
              recipient,
              { severity: "temporary", reason: "generic", status: { ...status, code: 421, message: "4.7.0 Try again later", retrySeconds: 600 } },
              at(2000),
            ),
          ),
        );
        continue;
      }
      push(toEventRow(domain, deliveredEvent(facts, recipient, status, at(1500))));
      if (rng.chance(0.001)) push(toEventRow(domain, complainedEvent(facts, recipient, at(3_600_000))));
      if (!rng.chance(0.45)) continue;
      const opens = 1 + Math.floor(rng.next() * 3);
      for (let o = 0; o < opens; o++) {
        const ua = USER_AGENTS[Math.floor(rng.next() * USER_AGENTS.length)]!;
        const hitMs = sentMs + 60_000 + Math.floor(rng.next() * 86_400_000);
        const hit = (event: "opened" | "clicked" | "unsubscribed", url = "") =>
          buildTrackingEvent(
            {
              type: "hit",
              v: 1,
              id: `${messageNo.toString(36)}${event[0]}${o}`,
              event,
              url,
              ts: hitMs * 1000,
              domain,
              messageId: facts.messageId,
              recipient,
              issuedAt: Math.floor(sentMs / 1000),
              method: "GET",
              ip: `198.51.100.${messageNo % 250}`,
              userAgent: ua,
              cf: { country: COUNTRIES[messageNo % COUNTRIES.length], city: "Somewhere", asn: 64500 + (messageNo % 20) },
            },
            { tags: facts.tags, userVariables: facts.userVariables, headers: facts.headers, preparedAt: sentMs },
          );
        push(toEventRow(domain, hit("opened")));
        if (o === 0 && rng.chance(0.12))
          push(
            toEventRow(
              domain,
              hit(
                "clicked",
                `https://shop.customer${rank}.example.com/collections/autumn/products/wool-coat-${messageNo % 500}?utm_source=newsletter&utm_medium=email&utm_campaign=autumn-${messageNo % 200}`,
              ),
            ),
          );
        if (o === 0 && rng.chance(0.05)) push(toEventRow(domain, hit("unsubscribed")));
      }
      if (rows.length >= chunk) {
        yield rows;
        rows = [];
      }
    }
  }
  if (rows.length > 0) yield rows;
}
