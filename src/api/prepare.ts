// POST /v1/tracking/prepare: applies a domain's tracking to one message for one recipient, for
// people who send through their own mail server. Returns the tracked parts and the
// List-Unsubscribe headers, and remembers the message's tags, variables and headers so that its
// opens and clicks carry them.
import { Hono } from "hono";
import { getDomain } from "../db/domains";
import { saveMessageMetadata } from "../db/messages";
import { describeJsonProblem, parseBoundedJson } from "../domain/json-bounds";
import { rewriteMessage } from "../domain/rewrite-message";
import { MAX_TOKEN_FIELD_BYTES } from "../domain/token";
import { resolveTracking } from "../domain/tracking-settings";
import { utf8ByteLength } from "../domain/utf8";
import * as z from "../domain/zod";
import type { ApiEnv } from "./context";
import { badRequest, notFound } from "./errors";
import { listUnsubscribeHeaders, makeLinks } from "./tracking-links";

/** Mailgun keeps at most 10 tags per message (3 on some plans) and truncates variables at 4 KB. */
const MAX_TAGS = 10;
const MAX_TAG_LENGTH = 128;
/** user_variables, as JSON. Unit: bytes. */
const MAX_USER_VARIABLES_BYTES = 4096;
/** html and text each. Unit: characters (UTF-16 units, what zod counts). */
const MAX_PART_CHARS = 10 * 1024 * 1024;
/**
 * The whole JSON body: two 10 MB parts and the rest; a larger one could not make a message under
 * Mailgun's 25 MB anyway. Unit: bytes.
 */
const MAX_PREPARE_BODY_BYTES = 24 * 1024 * 1024;

/** message_id and recipient go into every tracking token: held to its field limit, in bytes. */
const tokenField = (name: string) =>
  z.string().check(z.refine((value) => utf8ByteLength(value) <= MAX_TOKEN_FIELD_BYTES, `${name} must be at most ${MAX_TOKEN_FIELD_BYTES} bytes`));

const flag = z.optional(z.union([z.string(), z.boolean()]));
const prepareSchema = z.object({
  domain: z.string().check(z.minLength(1), z.maxLength(253)),
  message_id: z.pipe(
    z.pipe(
      z.string().check(z.minLength(1)),
      z.transform((id: string) => id.replace(/^<|>$/g, "")),
    ),
    tokenField("message_id"),
  ),
  recipient: z.pipe(z.string().check(z.regex(/^[^\s@<>]+@[^\s@<>]+$/, "must be an email address")), tokenField("recipient")),
  html: z.optional(z.string().check(z.maxLength(MAX_PART_CHARS))),
  text: z.optional(z.string().check(z.maxLength(MAX_PART_CHARS))),
  tags: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(MAX_TAG_LENGTH), z.regex(/^[\x20-\x7e]+$/, "tags are printable ASCII")))),
  user_variables: z.optional(z.record(z.string(), z.unknown())),
  subject: z.optional(z.string().check(z.maxLength(998))),
  from: z.optional(z.string().check(z.maxLength(998))),
  "o:tracking": flag,
  "o:tracking-opens": flag,
  "o:tracking-clicks": flag,
  "o:tracking-pixel-location-top": flag,
});

export const prepareApi = new Hono<ApiEnv>().post("/v1/tracking/prepare", async (c) => {
  if (Number(c.req.header("content-length") ?? 0) > MAX_PREPARE_BODY_BYTES)
    throw badRequest(describeJsonProblem("The body", "too-large", MAX_PREPARE_BODY_BYTES));
  const body = parseBoundedJson(new TextDecoder().decode(await c.req.arrayBuffer()), MAX_PREPARE_BODY_BYTES);
  if (!body.ok) throw badRequest(body.problem === "invalid" ? "The body must be JSON" : describeJsonProblem("The body", body.problem, MAX_PREPARE_BODY_BYTES));
  const input = prepareSchema.parse(body.value);
  const userVariables = input.user_variables ?? {};
  if (utf8ByteLength(JSON.stringify(userVariables)) > MAX_USER_VARIABLES_BYTES)
    throw badRequest(`user_variables must be at most ${MAX_USER_VARIABLES_BYTES} bytes of JSON`);
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

  // Token fields were checked in bytes above, and a link whose token would be too long stays untracked.
  const parts = await rewriteMessage(
    { html: input.html, text: input.text },
    tracking,
    { html: domain.unsubscribeHtmlFooter, text: domain.unsubscribeTextFooter },
    links,
  );

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
