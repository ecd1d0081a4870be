// Stored messages, Mailgun's: GET /v3/domains/{d}/messages/{key} shows the message as it was
// submitted (with `body-mime` when asked with Accept: message/rfc2822), and
// POST /v3/domains/{d}/messages/{key} sends it again to `to`, through the same path as a new
// message. Keys come from the `storage` of a message's events. Bindings: MESSAGES (and those of
// the Messages API for a resend).
import { Hono } from "hono";
import { loadStoredMessage, type StoredMessage } from "../db/stored-messages";
import { spacedJson } from "../domain/header-encoding";
import { buildMime } from "../domain/mime";
import type { ApiEnv } from "./context";
import { badRequest, notFound } from "./errors";
import { readFields } from "./fields";
import { addressesOf, MAX_RECIPIENTS } from "./message-form";
import { acceptMessage } from "./messages";

/** The message as one MIME text, the way it was submitted: no tracking, no per-recipient filling. */
function originalMime(stored: StoredMessage): string {
  const request = stored.request;
  const headers: Array<[string, string]> = [
    ["From", request.from.display],
    ["To", request.to.map((a) => a.display).join(", ")],
  ];
  if (request.cc.length > 0) headers.push(["Cc", request.cc.map((a) => a.display).join(", ")]);
  headers.push(
    ["Subject", request.subject],
    ["Date", new Date(stored.storedAt).toUTCString().replace("GMT", "+0000")],
    ["Message-Id", `<${stored.messageId}>`],
  );
  if (request.tags.length > 0) headers.push(["X-Mailgun-Tag", request.tags.join(", ")]);
  if (Object.keys(request.userVariables).length > 0) headers.push(["X-Mailgun-Variables", spacedJson(request.userVariables)]);
  headers.push(...request.customHeaders);
  return buildMime({ headers, text: request.text, html: request.html, attachments: request.attachments });
}

/** The header block of a MIME text as [name, value] pairs, unfolded. */
function headerPairs(mime: string): Array<[string, string]> {
  // Unfolding (RFC 5322 2.2.3) removes only the CRLF: the whitespace after it belongs to the value.
  const block = mime.slice(0, mime.indexOf("\r\n\r\n")).replace(/\r\n(?=[ \t])/g, "");
  return block.split("\r\n").map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
}

async function mustLoad(bucket: R2Bucket, domain: string, key: string): Promise<StoredMessage> {
  const stored = await loadStoredMessage(bucket, domain, key, Date.now());
  if (!stored) throw notFound("Message not found");
  return stored;
}

export const storedMessagesApi = new Hono<ApiEnv>()
  .get("/v3/domains/:domain/messages/:key", async (c) => {
    const stored = await mustLoad(c.env.MESSAGES, c.req.param("domain").toLowerCase(), c.req.param("key"));
    const { request } = stored;
    const mime = originalMime(stored);
    const headers = headerPairs(mime);
    const header = (name: string) => headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] ?? "";
    const body: Record<string, unknown> = {
      "Content-Transfer-Encoding": header("Content-Transfer-Encoding") || "7bit",
      "Content-Type": header("Content-Type"),
      From: request.from.display,
      "Message-Id": `<${stored.messageId}>`,
      "Mime-Version": "1.0",
      Subject: request.subject,
      To: request.to.map((a) => a.display).join(", "),
      "X-Mailgun-Tag": request.tags.join(", "),
      sender: request.from.address,
      recipients: request.to.map((a) => a.address).join(", "),
      from: request.from.display,
      subject: request.subject,
      "body-html": request.html ?? "",
      "body-plain": request.text ?? "",
      "stripped-html": request.html ?? "",
      "stripped-text": request.text ?? "",
      "stripped-signature": "",
      "message-headers": headers,
      attachments: request.attachments.map((a) => ({ name: a.filename, "content-type": a.contentType, size: a.content.length })),
      "content-id-map": {},
    };
    if ((c.req.header("accept") ?? "").toLowerCase().includes("message/rfc2822")) body["body-mime"] = mime;
    return c.json(body);
  })
  .post("/v3/domains/:domain/messages/:key", async (c) => {
    const domain = c.req.param("domain").toLowerCase();
    // `to` as a form field, as mailgun.js sends it, or in the query string, as older clients do.
    const toValues = [...((await readFields(c)).get("to") ?? []), ...(c.req.queries("to") ?? [])].filter((value) => value.trim() !== "");
    if (toValues.length === 0) throw badRequest("to parameter is missing");
    const to = addressesOf(toValues, "to");
    if (to.length === 0) throw badRequest("to parameter is missing");
    if (to.length > MAX_RECIPIENTS) throw badRequest(`Too many recipients, max is ${MAX_RECIPIENTS}`);
    const stored = await mustLoad(c.env.MESSAGES, domain, c.req.param("key"));
    return c.json(await acceptMessage(c.env, domain, { ...stored.request, to, cc: [], bcc: [], deliverAt: 0 }, new URL(c.req.url).origin));
  });
