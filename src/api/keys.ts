// Keys API, Mailgun's: GET /v1/keys (optionally ?kind= and ?domain_name=), POST /v1/keys (role,
// kind, domain_name, description, expiration in seconds) and DELETE /v1/keys/{id}. The secret is
// in the creation's answer only; D1 keeps its SHA-256 (src/domain/api-keys.ts says why that is
// enough). Admin keys only (route-access.ts). Bindings: DB.
import { Hono } from "hono";
import { getDomain } from "../db/domains";
import { deleteKey, insertKey, listKeys } from "../db/keys";
import { hashKeySecret, KEY_KINDS, type KeyKind, keyJson, MAX_API_KEYS, newKeySecret, parseKeyRequest, type StoredKey } from "../domain/api-keys";
import type { ApiEnv } from "./context";
import { badRequest, notFound } from "./errors";
import { field, readFields } from "./fields";
import { forgetKey } from "./key-auth";

const isKind = (value: string): value is KeyKind => (KEY_KINDS as readonly string[]).includes(value);

export const keysApi = new Hono<ApiEnv>()
  .get("/v1/keys", async (c) => {
    const kind = c.req.query("kind") || undefined;
    // Mailgun's words for a bad kind, with the kinds there are here.
    if (kind !== undefined && !isKind(kind)) throw badRequest(`expected \`kind\` param to be one of [${KEY_KINDS.join(" ")}] or absent`);
    const domainName = c.req.query("domain_name")?.trim().toLowerCase() || undefined;
    const now = Date.now();
    const keys = await listKeys(c.env.DB, { kind, domainName });
    return c.json({ total_count: keys.length, items: keys.map((key) => keyJson(key, now)) });
  })
  .post("/v1/keys", async (c) => {
    const fields = await readFields(c);
    const request = parseKeyRequest((name) => field(fields, name));
    if (typeof request === "string") throw badRequest(request);
    if (request.domainName && !(await getDomain(c.env.DB, request.domainName))) throw notFound("Domain not found");
    // Whole seconds, as the answer shows times: the expiry shown is the expiry kept.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const { id, secret } = newKeySecret();
    const key: StoredKey = {
      id,
      role: request.role,
      kind: request.kind,
      domainName: request.domainName,
      description: request.description,
      createdAt: now,
      expiresAt: request.expirationSeconds === null ? null : now + request.expirationSeconds * 1000,
    };
    if (!(await insertKey(c.env.DB, key, await hashKeySecret(secret), MAX_API_KEYS))) {
      throw badRequest(`There are already ${MAX_API_KEYS} API keys: delete one before making another`);
    }
    const shown = keyJson(key, now);
    // Mailgun's answer is {message, key}. mailgun.js 14 (apiKeys.create) reads the key's fields at
    // the top level, so they are there too, beside it; the secret is only in `key`.
    return c.json({ ...shown, message: "great success", key: { ...shown, secret } });
  })
  .delete("/v1/keys/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await deleteKey(c.env.DB, id))) throw notFound("no key matching id");
    forgetKey(id);
    return c.json({ message: "key deleted" });
  });
