// A Logs search as the page's form and links hold it (text filters, event type, a time range as
// datetime-local fields read in the panel's time zone or a preset such as "last 24 hours", the bot
// switch), turned into the Events API's query. Pure: the clock and the zone are arguments.
import { fromDateTimeLocal } from "./time";

/** Events per page of the Logs table. */
export const LOGS_PAGE_SIZE = 50;
export const EVENT_TYPES = ["accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained", "rejected"];
export const TEXT_FILTERS = [
  ["recipient", "Recipient", "email"],
  ["message-id", "Message-ID", "text"],
  ["subject", "Subject", "text"],
  ["from", "From", "text"],
  ["tags", "Tag", "text"],
] as const;

/** The date presets: label and how far back from now. Unit: seconds. */
export const DATE_PRESETS = {
  "1h": ["Last hour", 3600],
  "24h": ["Last 24 hours", 24 * 3600],
  "7d": ["Last 7 days", 7 * 24 * 3600],
  "30d": ["Last 30 days", 30 * 24 * 3600],
} as const;
export type DatePreset = keyof typeof DATE_PRESETS;

export interface LogsSearch {
  /** The search as the page's links keep it (empty values left out). */
  kept: Record<string, string>;
  /** The Events API's query for it, without `limit`. */
  query: URLSearchParams;
  /** Whether anything narrows the search (for the empty state's wording). */
  narrowed: boolean;
  hideBots: boolean;
  range: DatePreset | "";
}

export class SearchError extends Error {}

const isPreset = (text: string): text is DatePreset => Object.hasOwn(DATE_PRESETS, text);

/** The search named by `ask` (a query-string reader); throws SearchError for a time that is not one. */
export function readLogsSearch(ask: (name: string) => string | undefined, zone: string, nowMs: number): LogsSearch {
  const kept: Record<string, string> = {};
  const query = new URLSearchParams();
  for (const [name] of TEXT_FILTERS) {
    const value = ask(name)?.trim();
    if (value) {
      kept[name] = value;
      query.set(name, value);
    }
  }
  const event = ask("event") ?? "";
  if (EVENT_TYPES.includes(event)) {
    kept.event = event;
    query.set("event", event);
  }
  const asked = ask("range") ?? "";
  // Times typed into the form win over a preset chosen before.
  const typed = !!(ask("begin")?.trim() || ask("end")?.trim());
  const range = isPreset(asked) && !typed ? asked : "";
  let begin: number | null = null;
  let end: number | null = null;
  if (range) {
    kept.range = range;
    begin = Math.floor(nowMs / 1000) - DATE_PRESETS[range][1];
  } else {
    for (const name of ["begin", "end"] as const) {
      const text = ask(name)?.trim();
      if (!text) continue;
      const ms = fromDateTimeLocal(text, zone);
      if (ms === null) throw new SearchError(`${name === "begin" ? "From" : "To"} time must be a date and a time, such as 2026-11-26T09:30.`);
      kept[name] = text;
      if (name === "begin") begin = ms / 1000;
      else end = ms / 1000;
    }
  }
  // Newest first: Mailgun reads descending when begin is after end.
  if (begin !== null && end !== null) {
    query.set("begin", String(end));
    query.set("end", String(begin));
  } else if (begin !== null) {
    query.set("end", String(begin));
  } else if (end !== null) {
    query.set("begin", String(end));
    query.set("ascending", "no");
  }
  const hideBots = ask("hide_bots") === "on";
  if (hideBots) kept.hide_bots = "on";
  const narrowed = Object.keys(kept).some((k) => k !== "hide_bots");
  return { kept, query, narrowed, hideBots, range };
}
