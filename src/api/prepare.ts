// POST /v1/tracking/prepare: applies a domain's tracking to one message for one recipient, for
// people who send through their own mail server. Returns the tracked parts and the
// List-Unsubscribe headers, and remembers the message's tags, variables and headers so that its
// opens and clicks carry them.
import { Hono } from "hono";
import { z } from "zod";
import { getDomain } from "../db/domains";
import { saveMessageMetadata } from "../db/messages";
import { rewriteMessage } from "../domain/rewrite-message";
import { resolveTracking } from "../domain/tracking-settings";
import type { ApiEnv } from "./context";
import { badRequest, notFound } from "./errors";
import { listUnsubscribeHeaders, makeLinks } from "./tracking-links";

/** Mailgun keeps at most 10 tags per message (3 on some plans) and truncates variables at 4 KB. */
const MAX_TAGS = 10;
const MAX_TAG_LENGTH = 128;
const MAX_USER_VARIABLES_BYTES = 4096;
const MAX_PART_BYTES = 10 * 1024 * 1024;

const flag = z.union([z.string(), z.boolean()]).optional();
const prepareSchema = z.object({
  domain: z.string().min(1).max(253),
  message_id: z.string().min(1).max(255).transform((id) => id.replace(/^<|>$/g, "")),
  recipient: z.string().max(254).regex(/^[^\s@<>]+@[^\s@<>]+$/, "must be an email address"),
  html: z.string().max(MAX_PART_BYTES).optional(),
  text: z.string().max(MAX_PART_BYTES).optional(),
  tags: z.array(z.string().min(1).max(MAX_TAG_LENGTH).regex(/^[\x20-\x7e]+$/, "tags are printable ASCII")).optional(),
  user_variables: z.record(z.string(), z.unknown()).optional(),
  subject: z.string().max(998).optional(),
  from: z.string().max(998).optional(),
  "o:tracking": flag,
  "o:tracking-opens": flag,
  "o:tracking-clicks": flag,
  "o:tracking-pixel-location-top": flag,
});

export const prepareApi = new Hono<ApiEnv>().post("/v1/tracking/prepare", async (c) => {
  let body: unknown;
  try {
    // Decoded here: Request.json() makes workerd print a warning for a body of another content type.
    body = JSON.parse(new TextDecoder().decode(await c.req.arrayBuffer()));
  } catch {
    throw badRequest("The body must be JSON");
  }
  const input = prepareSchema.parse(body);
  const userVariables = input.user_variables ?? {};
  if (JSON.stringify(userVariables).length > MAX_USER_VARIABLES_BYTES) throw badRequest(`user_variables must be at most ${MAX_USER_VARIABLES_BYTES} bytes of JSON`);
  const domain = await getDomain(c.env.DB, input.domain.toLowerCase());
  if (!domain) throw notFound("Domain not found");

  let tracking;
  try {
    tracking = resolveTracking(domain, {
      tracking: input["o:tracking"],
      opens: input["o:tracking-opens"],
      clicks: input["o:tracking-clicks"],
      pixelTop: input["o:tracking-pixel-location-top"],
    });
  } catch (error) {
    throw badRequest((error as Error).message);
  }

  const issuedAt = Math.floor(Date.now() / 1000);
  const links = await makeLinks(c.env, domain, { messageId: input.message_id, recipient: input.recipient, issuedAt });

  let parts;
  try {
    parts = await rewriteMessage({ html: input.html, text: input.text }, tracking, { html: domain.unsubscribeHtmlFooter, text: domain.unsubscribeTextFooter }, links);
  } catch (error) {
    if (error instanceof RangeError) throw badRequest(`A link is too long to track: ${error.message}`);
    throw error;
  }

  const headers: Record<string, string> = { "message-id": input.message_id, to: input.recipient };
  if (input.from !== undefined) headers.from = input.from;
  if (input.subject !== undefined) headers.subject = input.subject;
  await saveMessageMetadata(
    c.env,
    { domain: domain.name, messageId: input.message_id, recipient: input.recipient },
    { tags: (input.tags ?? []).slice(0, MAX_TAGS), userVariables, headers, preparedAt: issuedAt * 1000 },
  );

  return c.json({
    html: parts.html ?? null,
    text: parts.text ?? null,
    // Always returned, whether or not the footer is switched on.
    headers: listUnsubscribeHeaders(links),
  });
});
