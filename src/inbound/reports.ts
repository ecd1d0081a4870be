// Pure parsing of the reports that come back to VERP return paths: delivery status notifications
// (RFC 3464, RFC 6533 for the UTF-8 variant) and abuse feedback reports (ARF, RFC 5965). No
// bindings, no I/O: the inbound handler feeds in the decoded MIME parts and acts on the result.
import { derivedId } from "../domain/base64url";
import type { DeliveryStatus } from "../domain/send-events";
import { VERP_PREFIX, type VerpTarget } from "../domain/verp";

export type ReportKind = "delivery-status" | "feedback-report" | "other";

export const DELIVERY_STATUS_TYPES = ["message/delivery-status", "message/global-delivery-status"];
export const FEEDBACK_REPORT_TYPE = "message/feedback-report";
/** Parts that carry the returned original message, whole or headers only. */
export const RETURNED_MESSAGE_TYPES = ["message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"];

/** How many candidate VERP addresses are checked (one HMAC each) before a report is given up on. */
const MAX_VERP_CANDIDATES = 8;

/** The value of one parameter of a structured header such as Content-Type, lower-cased. */
export function headerParam(value: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i").exec(value);
  const found = match?.[1] ?? match?.[2];
  return found === undefined ? undefined : found.trim().toLowerCase();
}

/**
 * A report by its top-level Content-Type; failing that, by the report part it carries (some MTAs
 * send a bare multipart/mixed). Trusting a part is safe: only a signed VERP address acts.
 */
export function reportKindOf(contentType: string | undefined, partTypes: string[]): ReportKind {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "multipart/report") {
    const reportType = headerParam(contentType!, "report-type");
    if (reportType === "delivery-status" || reportType === "global-delivery-status") return "delivery-status";
    if (reportType === "feedback-report") return "feedback-report";
  }
  if (partTypes.some((t) => DELIVERY_STATUS_TYPES.includes(t))) return "delivery-status";
  if (partTypes.includes(FEEDBACK_REPORT_TYPE)) return "feedback-report";
  return "other";
}

/**
 * Header-style fields in groups separated by blank lines (the delivery-status body is one
 * per-message group then one group per recipient). Folded lines are joined; names are
 * lower-cased; the first of a repeated field wins.
 */
export function parseFieldGroups(text: string): Array<Record<string, string>> {
  const groups: Array<Record<string, string>> = [];
  for (const block of text.replace(/\r\n?/g, "\n").split(/\n[ \t]*\n/)) {
    const fields: Record<string, string> = {};
    for (const line of block.replace(/\n(?=[ \t])/g, "").split("\n")) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!/^[a-z0-9-]+$/.test(name) || Object.hasOwn(fields, name)) continue; // "constructor" is a name like any other
      fields[name] = line
        .slice(colon + 1)
        .replace(/[ \t]+/g, " ")
        .trim();
    }
    if (Object.keys(fields).length > 0) groups.push(fields);
  }
  return groups;
}

/** `rfc822; <Bob@Example.com>` -> `Bob@Example.com` (address type dropped, brackets too). */
export function typedAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const semicolon = value.indexOf(";");
  const address = (semicolon >= 0 ? value.slice(semicolon + 1) : value).trim().replace(/^<|>$/g, "").trim();
  return address || undefined;
}

export interface RecipientReport {
  finalRecipient?: string;
  originalRecipient?: string;
  /** Lower-cased: failed, delayed, delivered, relayed or expanded. */
  action: string;
  /** Enhanced status code, e.g. "5.1.1"; "" when missing or malformed. */
  status: string;
  /** The Diagnostic-Code text after its type ("smtp; "), unfolded; "" when absent. */
  diagnostic: string;
}

/** The per-recipient groups of a message/delivery-status body. */
export function parseDeliveryStatus(text: string): RecipientReport[] {
  return parseFieldGroups(text)
    .filter((g) => "final-recipient" in g || "original-recipient" in g || "action" in g)
    .map((g) => {
      const diagnostic = g["diagnostic-code"] ?? "";
      const semicolon = diagnostic.indexOf(";");
      return {
        finalRecipient: typedAddress(g["final-recipient"]),
        originalRecipient: typedAddress(g["original-recipient"]),
        action: (g.action ?? "").split(/[\s(;]/)[0]!.toLowerCase(),
        status: /^\s*([245]\.\d{1,3}\.\d{1,3})\b/.exec(g.status ?? "")?.[1] ?? "",
        diagnostic: (semicolon >= 0 ? diagnostic.slice(semicolon + 1) : diagnostic).trim(),
      };
    });
}

/** permanent: failed with a 5.x.x status; temporary: delayed or 4.x.x; ignore: the rest. */
export function classifyRecipient(report: RecipientReport): "permanent" | "temporary" | "ignore" {
  if (report.action === "failed" && report.status.startsWith("5.")) return "permanent";
  if (report.action === "delayed" || report.status.startsWith("4.")) return "temporary";
  return "ignore";
}

/**
 * The permanent failure a report holds for one delivery: the group naming its recipient if
 * there is one, else the first permanent one (forwarding rewrites the final recipient). One
 * VERP address names one delivery, so a report yields at most one failure.
 */
export function permanentFailureFor(reports: RecipientReport[], recipient: string): RecipientReport | undefined {
  const permanent = reports.filter((r) => classifyRecipient(r) === "permanent");
  const wanted = recipient.toLowerCase();
  return permanent.find((r) => r.originalRecipient?.toLowerCase() === wanted || r.finalRecipient?.toLowerCase() === wanted) ?? permanent[0];
}

/** The SMTP reply code that opens a diagnostic ("550 5.1.1 ..."), else 550 for a 5.x.x status. */
export function smtpCodeOf(diagnostic: string): number {
  const match = /^([2-5]\d\d)(?:[\s-]|$)/.exec(diagnostic);
  return match ? Number(match[1]) : 550;
}

/** delivery-status of a delayed bounce, as Mailgun shows it ("bounce-code" holds the DSN status). */
export function bounceStatusOf(report: RecipientReport): DeliveryStatus {
  return { code: smtpCodeOf(report.diagnostic), message: report.diagnostic, description: "", attemptNo: 1, bounceCode: report.status };
}

export interface FeedbackReport {
  /** Lower-cased, e.g. abuse; "" when missing. */
  feedbackType: string;
  originalMailFrom?: string;
  originalRcptTo?: string;
}

export function parseFeedbackReport(text: string): FeedbackReport {
  const fields = parseFieldGroups(text)[0] ?? {};
  return {
    feedbackType: (fields["feedback-type"] ?? "").toLowerCase(),
    originalMailFrom: typedAddress(fields["original-mail-from"]),
    originalRcptTo: typedAddress(fields["original-rcpt-to"]),
  };
}

/** A complaint unless the report says otherwise: not-spam (RFC 6650) and auth-failure (RFC 6591) are not. */
export function isComplaint(report: FeedbackReport): boolean {
  return report.feedbackType !== "not-spam" && report.feedbackType !== "auth-failure";
}

/** The header section of a returned message (text/rfc822-headers is nothing but that). */
export function headerSection(message: string): string {
  const normalized = message.replace(/\r\n?/g, "\n");
  const end = normalized.search(/\n[ \t]*\n/);
  return end < 0 ? normalized : normalized.slice(0, end);
}

/** Every value of one header in a header section, unfolded. */
export function headerValues(headers: string, name: string): string[] {
  const wanted = name.toLowerCase();
  return headerSection(headers)
    .replace(/\n(?=[ \t])/g, "")
    .split("\n")
    .flatMap((line) => {
      const colon = line.indexOf(":");
      return colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted ? [line.slice(colon + 1).trim()] : [];
    });
}

const VERP_PATTERN = new RegExp(`${VERP_PREFIX.replace("+", "\\+")}[A-Za-z0-9_-]+@[A-Za-z0-9.-]+[A-Za-z0-9]`, "gi");

/** The bounce+ addresses written anywhere in a text, in order. */
export function verpAddressesIn(text: string): string[] {
  return [...text.replace(/\r?\n[ \t]+/g, " ").matchAll(VERP_PATTERN)].map((m) => m[0]);
}

const WHOLE_VERP_ADDRESS = new RegExp(`^${VERP_PATTERN.source}$`, "i");

/** True for a bare `bounce+<payload>@<domain>` address (signature not checked here). */
export function isVerpAddress(address: string): boolean {
  return WHOLE_VERP_ADDRESS.test(address.trim());
}

/**
 * Where a report may name the delivery, most trusted first: the envelope recipient of the report,
 * the Return-Path (and any other bounce+ address) of the returned message, ARF's Original-Mail-From,
 * then X-Failed-Recipients. Only bounce+ addresses, no repeats, at most MAX_VERP_CANDIDATES.
 */
export function verpCandidates(sources: { envelopeTo: string; returnedHeaders: string[]; originalMailFrom?: string; failedRecipients: string[] }): string[] {
  const ordered = [
    sources.envelopeTo,
    ...sources.returnedHeaders.flatMap((h) => headerValues(h, "return-path").flatMap(verpAddressesIn)),
    ...(sources.originalMailFrom ? verpAddressesIn(sources.originalMailFrom) : []),
    ...sources.returnedHeaders.flatMap((h) => verpAddressesIn(headerSection(h))),
    ...sources.failedRecipients.flatMap(verpAddressesIn),
  ];
  return [...new Set(ordered.map((a) => a.trim()).filter(isVerpAddress))].slice(0, MAX_VERP_CANDIDATES);
}

/**
 * A fixed event id per delivery and kind: a second DSN for the same bounce (MTAs do resend, and a
 * report may arrive twice) stores nothing new, since the events table ignores a known id.
 */
export function inboundEventId(kind: "failed" | "complained", target: VerpTarget): Promise<string> {
  return derivedId("inbound", kind, target.domain, target.messageId, target.recipient.toLowerCase());
}
