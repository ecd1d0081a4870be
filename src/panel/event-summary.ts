// What a Logs row says in one line, as Mailgun's and Postmark's logs do: the relay's reply of a
// delivery or failure, the link of a click, the client of an open, and the tags. Pure.

/** The fields of an Events API item the panel reads. */
export interface LoggedEvent {
  id: string;
  event: string;
  timestamp: number;
  recipient: string;
  severity?: string;
  reason?: string;
  url?: string;
  tags?: string[];
  "delivery-status"?: { code?: number; message?: string; description?: string; "mx-host"?: string; "enhanced-code"?: string };
  flags?: { "is-test-mode"?: boolean };
  reject?: { reason?: string; description?: string };
  "client-info"?: { bot?: string; "client-name"?: string; "client-os"?: string; "device-type"?: string };
  envelope?: { sender?: string };
  message?: { headers?: { subject?: string; from?: string; "message-id"?: string } };
  storage?: { key: string; url: string };
}

/** Long replies and URLs are cut here; the whole event is one click away. Unit: characters. */
export const SUMMARY_MAX_CHARS = 160;

const cut = (text: string) => (text.length > SUMMARY_MAX_CHARS ? `${text.slice(0, SUMMARY_MAX_CHARS - 1)}…` : text);

function reply(e: LoggedEvent): string {
  const status = e["delivery-status"];
  if (!status) return "";
  const words = [status.code ? String(status.code) : "", status["enhanced-code"] ?? "", (status.message || status.description || "").trim()];
  return words.filter(Boolean).join(" ");
}

function what(e: LoggedEvent): string {
  switch (e.event) {
    case "accepted": {
      const from = e.message?.headers?.from || e.envelope?.sender;
      return from ? `From ${from}` : "Accepted for delivery";
    }
    case "delivered": {
      const relay = e["delivery-status"]?.["mx-host"];
      const said = reply(e) || "Delivered";
      // The consumer's own test-mode reply already says so.
      const test = e.flags?.["is-test-mode"] && !said.includes("test mode") ? " (test mode: not sent)" : "";
      return `${said}${relay ? ` via ${relay}` : ""}${test}`;
    }
    case "failed":
      return [e.reason && e.reason !== "generic" ? e.reason : "", reply(e)].filter(Boolean).join(": ") || "Failed";
    case "clicked":
      return e.url ?? "";
    case "opened": {
      const known = (text: string | undefined) => (text && text !== "unknown" ? text : "");
      const client = known(e["client-info"]?.["client-name"]);
      const device = known(e["client-info"]?.["device-type"]);
      const name = [client, device ? `on ${device}` : ""].filter(Boolean).join(" ");
      return name ? `Opened in ${name}` : "Opened";
    }
    case "rejected":
      return e.reject?.reason || e.reject?.description || "Rejected";
    default:
      return "";
  }
}

/** "550 5.1.1 No such user · tags: welcome" and the like. */
export function summarizeEvent(e: LoggedEvent): string {
  const tags = e.tags?.length ? `tags: ${e.tags.join(", ")}` : "";
  return [cut(what(e)), tags].filter(Boolean).join(" · ");
}
