// "Send a test message" on a domain's page: a small form whose post goes through the Messages API
// itself (POST /v3/{domain}/messages, in-process as the signed-in key), so the same checks,
// suppressions, tracking and delivery apply as for mailgun.js; then the message's timeline.
// Shown to, and accepted from, the keys the API's route table lets send (never a basic key).
import type { Context } from "hono";
import { html } from "hono/html";
import { ROUTE_ACCESS } from "../../api/route-access";
import { mayCall } from "../../domain/access";
import { callApi } from "../api-client";
import type { PanelEnv } from "../context";
import { csrfField, panelHref } from "../layout";
import { backTo, enc, formText } from "../shared";

/** The tag test messages carry, so Analytics can tell them apart. */
export const TEST_MESSAGE_TAG = "tidings-test";

const SEND_ACCESS = ROUTE_ACCESS.find((r) => r.method === "POST" && r.path === "/v3/:domain/messages")!.access;

/** Whether the signed-in key may send for `domain` (the API's own rule for its Messages route). */
export const maySend = (c: Context<PanelEnv>, domain: string): boolean => mayCall(SEND_ACCESS, c.get("principal"), domain);

export function sendTestForm(c: Context<PanelEnv>, domain: string) {
  if (!maySend(c, domain)) return "";
  return html`<h2>Send a test message</h2>
<form method="post" action="/app/domains/${enc(domain)}/send" class="stack" id="send-test">${csrfField(c)}
  <label>To <input type="email" name="to" required placeholder="you@example.org"></label>
  <label>From <input type="text" name="from" value="Tidings test <test@${domain}>" required></label>
  <label>Subject <input type="text" name="subject" value="Test message from Tidings" required></label>
  <label>Text <textarea name="text" rows="3">This is a test message sent from the Tidings panel.</textarea></label>
  <p class="muted">Sent through the Messages API like any other message (tagged ${TEST_MESSAGE_TAG}), with this domain's tracking.</p>
  <div><button type="submit">Send test message</button></div>
</form>`;
}

export async function sendTestMessage(c: Context<PanelEnv>) {
  const domain = c.req.param("name")!.toLowerCase();
  const back = `/app/domains/${enc(domain)}`;
  if (!maySend(c, domain)) return c.text("This key may not send mail.", 403);
  const body = new FormData();
  for (const name of ["from", "to", "subject"]) body.append(name, await formText(c, name));
  const text = await formText(c, "text", { trim: false });
  body.append("text", text.trim() ? text : "This is a test message sent from the Tidings panel.");
  body.append("o:tag", TEST_MESSAGE_TAG);
  const result = await callApi<{ id: string; message: string }>(c, "POST", `/v3/${enc(domain)}/messages`, body);
  if (!result.ok) return backTo(c, back, { error: result.message });
  const messageId = result.body.id.replace(/^<|>$/g, "");
  return backTo(c, panelHref("logs/timeline", domain, { message_id: messageId }), {
    notice: `${result.body.message} The test message ${result.body.id} is on its way.`,
  });
}
