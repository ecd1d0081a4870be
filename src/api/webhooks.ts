// Webhooks API, Mailgun's (mailgun-api.md §6): domain webhooks in the v3 one-id-many-URLs form and
// the v4 one-URL-many-ids form, the legacy test call mailgun.js makes, the account signing key,
// and (beside Mailgun's shapes) each domain's dead-letter list with a manual replay.
// Bindings: DB (webhooks, ledger, signing key), the webhooks queue's producers (replays, to the domain's partition).
import { type Context, Hono } from "hono";
import { postWebhook } from "../consumers/webhook-post";
import { getDomain } from "../db/domains";
import { queueFor } from "../db/queue-partitions";
import {
  type DeadDelivery,
  deleteDeadDelivery,
  getDeadDelivery,
  getSigningKey,
  listDeadDeliveries,
  listWebhooks,
  regenerateSigningKey,
  setManyWebhookUrls,
  setWebhookUrls,
  type WebhookUrls,
} from "../db/webhooks";
import { decodeJsonBase64Url, encodeJsonBase64Url } from "../domain/base64url";
import { formatRfc1123 } from "../domain/dates";
import { readIntParam } from "../domain/integers";
import { MAX_QUEUE_BODY_BYTES } from "../domain/queue-messages";
import { privateUrlsAllowed, webhookHostRefusal } from "../domain/url-safety";
import { packWebhookItems } from "../domain/webhook-packs";
import { checkWebhookUrl, importSigningKey, MAX_URLS_PER_WEBHOOK, parseWebhookId, WEBHOOK_IDS, type WebhookId } from "../domain/webhooks";
import type { ApiEnv } from "./context";
import { ApiError, notFound } from "./errors";
import { type Fields, readFields } from "./fields";

/** Mailgun answers webhook 400s with `Reason`; `message` is there too, as on every other route. */
const invalid = (message: string) => new ApiError(400, message, { Reason: message });
/** Dead letters per page of GET /v3/domains/{d}/webhooks/dead-letters. */
const DEFAULT_DEAD_LETTERS_LIMIT = 100;
const MAX_DEAD_LETTERS_LIMIT = 1000;

async function domainOf(c: Context<ApiEnv>): Promise<string> {
  const domain = c.req.param("domain")!.toLowerCase();
  if (!(await getDomain(c.env.DB, domain))) throw notFound("Domain not found");
  return domain;
}

function webhookIdOf(text: string | undefined): WebhookId {
  const id = parseWebhookId(text ?? "");
  if (!id) throw invalid(`Webhook id ${JSON.stringify(text ?? "")} is invalid; use one of ${WEBHOOK_IDS.join(", ")}`);
  return id;
}

/**
 * The `url` fields (repeated, up to 3), each an http(s) URL with a host on the public internet
 * (unless WEBHOOK_ALLOW_PRIVATE_URLS is "true"); duplicates removed.
 */
function urlsOf(c: Context<ApiEnv>, fields: Fields, { required }: { required: boolean }): string[] {
  const allowPrivate = privateUrlsAllowed(c.env.WEBHOOK_ALLOW_PRIVATE_URLS);
  const urls: string[] = [];
  for (const value of fields.get("url") ?? []) {
    const checked = checkWebhookUrl(value);
    if ("error" in checked) throw invalid(checked.error);
    const refusal = allowPrivate ? null : webhookHostRefusal(checked.url);
    if (refusal) throw invalid(`${JSON.stringify(value)} is not allowed: its host ${refusal}; webhooks are posted only to public internet hosts`);
    if (!urls.includes(checked.url)) urls.push(checked.url);
  }
  if (required && urls.length === 0) throw invalid("url is required");
  if (urls.length > MAX_URLS_PER_WEBHOOK) throw invalid(`A webhook can have at most ${MAX_URLS_PER_WEBHOOK} URLs`);
  return urls;
}

const webhooksJson = (hooks: WebhookUrls) => Object.fromEntries([...hooks].map(([id, urls]) => [id, { urls }]));

function deadJson(dead: DeadDelivery) {
  return {
    id: dead.id,
    webhook: dead.webhook,
    url: dead.url,
    "event-id": dead.eventId,
    attempts: dead.attempts,
    "last-status": dead.lastStatus,
    "last-error": dead.lastError,
    "failed-at": formatRfc1123(dead.finishedAt),
    "event-data": dead.event,
  };
}

export const webhooksApi = new Hono<ApiEnv>()
  .get("/v3/domains/:domain/webhooks", async (c) => {
    const domain = await domainOf(c);
    return c.json({ webhooks: webhooksJson(await listWebhooks(c.env.DB, domain)) });
  })
  .post("/v3/domains/:domain/webhooks", async (c) => {
    const domain = await domainOf(c);
    const fields = await readFields(c);
    const id = webhookIdOf(fields.get("id")?.[0]);
    const urls = urlsOf(c, fields, { required: true });
    if ((await listWebhooks(c.env.DB, domain)).has(id))
      throw invalid(`Webhook ${id} already exists; change its URLs with PUT /v3/domains/${domain}/webhooks/${id}`);
    await setWebhookUrls(c.env.DB, domain, id, urls);
    return c.json({ message: "Webhook has been created", webhook: { urls } });
  })

  // The dead-letter list (not a Mailgun route): deliveries that failed every attempt.
  .get("/v3/domains/:domain/webhooks/dead-letters", async (c) => {
    const domain = await domainOf(c);
    const limit = readIntParam(c.req.query("limit"), "limit", { min: 1, max: MAX_DEAD_LETTERS_LIMIT, fallback: DEFAULT_DEAD_LETTERS_LIMIT });
    if (typeof limit === "string") throw invalid(limit);
    const page = c.req.query("page");
    let before: { finishedAt: number; id: string } | undefined;
    if (page) {
      const cursor = decodeJsonBase64Url(page) as { t?: unknown; i?: unknown } | null;
      if (!cursor || typeof cursor.t !== "number" || typeof cursor.i !== "string") throw invalid("page is not a page token from this list");
      before = { finishedAt: cursor.t, id: cursor.i };
    }
    const items = await listDeadDeliveries(c.env.DB, domain, limit, before);
    const last = items.at(-1);
    const base = `${new URL(c.req.url).origin}/v3/domains/${encodeURIComponent(domain)}/webhooks/dead-letters?limit=${limit}`;
    return c.json({
      items: items.map(deadJson),
      paging: {
        first: base,
        next: last ? `${base}&page=${encodeJsonBase64Url({ t: last.finishedAt, i: last.id })}` : page ? `${base}&page=${page}` : base,
      },
    });
  })
  .post("/v3/domains/:domain/webhooks/dead-letters/:id/replay", async (c) => {
    const domain = await domainOf(c);
    const dead = await getDeadDelivery(c.env.DB, domain, c.req.param("id"));
    if (!dead) throw notFound("Dead letter not found");
    // Replayed as a fresh delivery with the full schedule, a pack of one event (its ledger id is
    // derived again from event id and URL: the same); the row goes once the queue has it.
    const event = { ...dead.event, id: dead.eventId };
    const [pack] = packWebhookItems(domain, dead.url, 1, [{ webhook: dead.webhook, event }], MAX_QUEUE_BODY_BYTES);
    await queueFor(c.env, "webhooks", domain).send(pack!, { contentType: "json" });
    await deleteDeadDelivery(c.env.DB, domain, dead.id);
    return c.json({ message: "Webhook delivery has been queued again", id: dead.id });
  })
  .delete("/v3/domains/:domain/webhooks/dead-letters/:id", async (c) => {
    const domain = await domainOf(c);
    if (!(await deleteDeadDelivery(c.env.DB, domain, c.req.param("id")))) throw notFound("Dead letter not found");
    return c.json({ message: "Dead letter has been deleted", id: c.req.param("id") });
  })

  .get("/v3/domains/:domain/webhooks/:id", async (c) => {
    const domain = await domainOf(c);
    const id = webhookIdOf(c.req.param("id"));
    const urls = (await listWebhooks(c.env.DB, domain)).get(id);
    if (!urls) throw notFound("Webhook not found");
    return c.json({ webhook: { urls } });
  })
  .put("/v3/domains/:domain/webhooks/:id", async (c) => {
    const domain = await domainOf(c);
    const id = webhookIdOf(c.req.param("id"));
    const urls = urlsOf(c, await readFields(c), { required: true });
    await setWebhookUrls(c.env.DB, domain, id, urls);
    return c.json({ message: "Webhook has been updated", webhook: { urls } });
  })
  .delete("/v3/domains/:domain/webhooks/:id", async (c) => {
    const domain = await domainOf(c);
    const id = webhookIdOf(c.req.param("id"));
    const urls = (await listWebhooks(c.env.DB, domain)).get(id);
    if (!urls) throw notFound("Webhook not found");
    await setWebhookUrls(c.env.DB, domain, id, []);
    return c.json({ message: "Webhook has been deleted", webhook: { urls } });
  })
  // mailgun.js's webhooks.create(domain, id, url, true): post a signed sample now, report what came back.
  .put("/v3/domains/:domain/webhooks/:id/test", async (c) => {
    const domain = await domainOf(c);
    const id = webhookIdOf(c.req.param("id"));
    const fields = await readFields(c);
    const [url] = urlsOf(c, fields, { required: false });
    const target = url ?? (await listWebhooks(c.env.DB, domain)).get(id)?.[0];
    if (!target) throw invalid("url is required");
    const result = await postWebhook(await importSigningKey(await getSigningKey(c.env.DB)), target, sampleEvent(domain, id), {
      allowPrivateUrls: privateUrlsAllowed(c.env.WEBHOOK_ALLOW_PRIVATE_URLS),
    });
    return c.json({ code: result.status ?? 0, message: result.error ?? result.body ?? "" });
  })

  .post("/v4/domains/:domain/webhooks", async (c) => {
    const domain = await domainOf(c);
    const { url, ids } = await v4Input(c);
    const hooks = await listWebhooks(c.env.DB, domain);
    const changes: WebhookUrls = new Map();
    for (const id of ids) {
      const urls = hooks.get(id) ?? [];
      if (urls.includes(url)) throw invalid(`Webhook for event type '${id}' with URL '${url}' already exists`);
      if (urls.length >= MAX_URLS_PER_WEBHOOK) throw invalid(`Webhook for event type '${id}' already has ${MAX_URLS_PER_WEBHOOK} URLs`);
      changes.set(id, [...urls, url]);
    }
    await setManyWebhookUrls(c.env.DB, domain, changes);
    return c.json({ webhooks: webhooksJson(await listWebhooks(c.env.DB, domain)) });
  })
  .put("/v4/domains/:domain/webhooks", async (c) => {
    const domain = await domainOf(c);
    const { url, ids } = await v4Input(c);
    const hooks = await listWebhooks(c.env.DB, domain);
    const changes: WebhookUrls = new Map();
    for (const id of WEBHOOK_IDS) {
      const urls = hooks.get(id) ?? [];
      const wanted = ids.includes(id);
      if (wanted && !urls.includes(url)) {
        if (urls.length >= MAX_URLS_PER_WEBHOOK) throw invalid(`Webhook for event type '${id}' already has ${MAX_URLS_PER_WEBHOOK} URLs`);
        changes.set(id, [...urls, url]);
      } else if (!wanted && urls.includes(url)) {
        changes.set(
          id,
          urls.filter((u) => u !== url),
        );
      }
    }
    await setManyWebhookUrls(c.env.DB, domain, changes);
    return c.json({ webhooks: webhooksJson(await listWebhooks(c.env.DB, domain)) });
  })
  .delete("/v4/domains/:domain/webhooks", async (c) => {
    const domain = await domainOf(c);
    const remove = (c.req.queries("url") ?? [])
      .flatMap((v) => v.split(","))
      .map((v) => v.trim())
      .filter(Boolean);
    if (remove.length === 0) throw invalid("url is required");
    const normalized = remove.map((u) => {
      const checked = checkWebhookUrl(u);
      return "url" in checked ? checked.url : u;
    });
    const hooks = await listWebhooks(c.env.DB, domain);
    const changes: WebhookUrls = new Map();
    for (const [id, urls] of hooks) {
      const kept = urls.filter((u) => !normalized.includes(u));
      if (kept.length !== urls.length) changes.set(id, kept);
    }
    await setManyWebhookUrls(c.env.DB, domain, changes);
    return c.json({ webhooks: webhooksJson(await listWebhooks(c.env.DB, domain)) });
  })

  .get("/v5/accounts/http_signing_key", async (c) => c.json({ http_signing_key: await getSigningKey(c.env.DB) }))
  .post("/v5/accounts/http_signing_key", async (c) =>
    c.json({ message: "regenerated HTTP signing key for account", http_signing_key: await regenerateSigningKey(c.env.DB) }),
  );

/** The v4 form: one `url` and repeated (or comma-joined) `event_types`. */
async function v4Input(c: Context<ApiEnv>): Promise<{ url: string; ids: WebhookId[] }> {
  const fields = await readFields(c);
  const urls = fields.get("url") ?? [];
  if (urls.length !== 1) throw invalid("Exactly one url is required");
  const [url] = urlsOf(c, fields, { required: true });
  const ids = [
    ...new Set(
      (fields.get("event_types") ?? [])
        .flatMap((v) => v.split(","))
        .filter((v) => v.trim())
        .map(webhookIdOf),
    ),
  ];
  if (ids.length === 0) throw invalid("event_types is required");
  return { url: url!, ids };
}

/** A plausible event for the test call, marked as a test in its user variables. */
function sampleEvent(domain: string, id: WebhookId): Record<string, unknown> {
  const event = id === "permanent_fail" || id === "temporary_fail" ? "failed" : id;
  return {
    id: "test-webhook-event",
    event,
    ...(event === "failed" ? { severity: id === "permanent_fail" ? "permanent" : "temporary", reason: "generic" } : {}),
    timestamp: Date.now() / 1000,
    recipient: "alice@example.com",
    "recipient-domain": "example.com",
    tags: ["test"],
    "user-variables": { "tidings-test": true },
    message: { headers: { "message-id": `test@${domain}`, from: `test@${domain}`, to: "alice@example.com", subject: "Tidings webhook test" } },
    flags: { "is-test-mode": true },
  };
}
