// CSV export of a Logs search: the same filters, paged through the Events API's cursors 300 at a
// time and streamed to the browser as each page arrives, at most LOGS_CSV_MAX_ROWS rows (a wider
// export is the Events API's job; the page says so). Times are ISO 8601 in UTC, for spreadsheets.
import type { Context } from "hono";
import { mustCallApi } from "../api-client";
import type { PanelEnv } from "../context";
import { type LoggedEvent, summarizeEvent } from "../event-summary";
import type { LogsSearch } from "../logs-search";
import { enc } from "../shared";

/**
 * The most rows one export holds. Unit: events (CSV lines after the header). 34 Events API calls
 * of 300, well within D1's 1,000 queries per invocation and a browser's patience.
 */
export const LOGS_CSV_MAX_ROWS = 10_000;
/** Events per Events API call while exporting (its own maximum). */
const EXPORT_PAGE_SIZE = 300;

const COLUMNS = ["time", "event", "severity", "recipient", "message_id", "subject", "from", "tags", "summary", "bot", "id"];

const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

function csvLine(e: LoggedEvent): string {
  const headers = e.message?.headers;
  const fields = [
    new Date(e.timestamp * 1000).toISOString(),
    e.event,
    e.severity ?? "",
    e.recipient,
    headers?.["message-id"] ?? "",
    headers?.subject ?? "",
    headers?.from ?? "",
    (e.tags ?? []).join(","),
    summarizeEvent({ ...e, tags: [] }),
    e["client-info"]?.bot ?? "",
    e.id,
  ];
  return fields.map((f) => csvField(String(f))).join(",");
}

type EventsPage = { items: LoggedEvent[]; paging: { next: string } };

/** The export's response: the first page is read before answering, so a bad search is an error page, not a broken file. */
export async function exportLogsCsv(c: Context<PanelEnv>, domain: string, search: LogsSearch): Promise<Response> {
  const query = new URLSearchParams(search.query);
  query.set("limit", String(EXPORT_PAGE_SIZE));
  let page = await mustCallApi<EventsPage>(c, "GET", `/v3/${enc(domain)}/events?${query}`);
  let rows = 0;
  let done = false;
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`${COLUMNS.join(",")}\r\n`));
    },
    async pull(controller) {
      if (done) return controller.close();
      const kept = (search.hideBots ? page.items.filter((e) => !e["client-info"]?.bot) : page.items).slice(0, LOGS_CSV_MAX_ROWS - rows);
      rows += kept.length;
      if (kept.length) controller.enqueue(encoder.encode(kept.map((e) => `${csvLine(e)}\r\n`).join("")));
      if (page.items.length < EXPORT_PAGE_SIZE || rows >= LOGS_CSV_MAX_ROWS) {
        done = true;
        return controller.close();
      }
      const token = page.paging.next.slice(page.paging.next.lastIndexOf("/") + 1);
      page = await mustCallApi<EventsPage>(c, "GET", `/v3/${enc(domain)}/events/${enc(token)}`);
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${domain}-events.csv"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
