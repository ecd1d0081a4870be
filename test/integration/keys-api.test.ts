// Mailgun's Keys API: the shapes of GET/POST /v1/keys and DELETE /v1/keys/{id}, the secret shown
// once and stored only as its SHA-256, the checks on a creation, and a key's end: deletion stops it
// at once in the isolate that deleted it and within KEY_CACHE_MS everywhere else; expiry stops it
// at its second, cached or not.
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { authenticateKey, KEY_CACHE_MS } from "../../src/api/key-auth";
import { findKeyById, insertKey } from "../../src/db/keys";
import { hashKeySecret, MAX_API_KEYS, newKeySecret } from "../../src/domain/api-keys";
import type { Env } from "../../src/env";
import { api, BASE, createDomain, form, uniqueDomain } from "../helpers";

const testEnv = env as unknown as Env;
const DOMAIN = uniqueDomain("keys");

interface KeyJson {
  id: string;
  description: string;
  kind: string;
  role: string;
  created_at: string;
  updated_at: string;
  expires_at?: string;
  is_disabled: boolean;
  disabled_reason?: string;
  domain_name: string | null;
  requestor: null;
  user_name: null;
  secret?: string;
}

async function create(fields: Record<string, string>): Promise<KeyJson & { secret: string }> {
  const response = await api("/v1/keys", { method: "POST", body: form(fields) });
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { key: KeyJson & { secret: string } }).key;
}

const asKey = (secret: string, path: string, init: RequestInit = {}) =>
  SELF.fetch(`${BASE}${path}`, { ...init, headers: { authorization: `Basic ${btoa(`api:${secret}`)}` } });

beforeAll(() => createDomain(DOMAIN));

describe("Keys API shapes", () => {
  it("creates a key in Mailgun's shape, with the secret in the answer once, and stores only its hash", async () => {
    const response = await api("/v1/keys", { method: "POST", body: form({ role: "developer", description: "ci", expiration: "3600" }) });
    const body = (await response.json()) as Record<string, unknown> & { message: string; key: KeyJson & { secret: string } };
    expect(body.message).toBe("great success");
    const { key } = body;
    expect(key).toMatchObject({ kind: "user", role: "developer", description: "ci", is_disabled: false, domain_name: null, requestor: null, user_name: null });
    expect(key.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(key.secret).toMatch(new RegExp(`^[0-9a-f]{32}-${key.id}$`));
    expect(key.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(Date.parse(`${key.expires_at}Z`) - Date.parse(`${key.created_at}Z`)).toBe(3600_000);
    // mailgun.js 14 reads the key's fields at the top level: they are there too, but not the secret.
    expect(body).toMatchObject({ id: key.id, role: "developer", created_at: key.created_at });
    expect(body).not.toHaveProperty("secret");

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?1").bind(key.id).first<Record<string, unknown>>();
    expect(row!.secret_hash).toBe(await hashKeySecret(key.secret));
    expect(JSON.stringify(row)).not.toContain(key.secret.slice(0, 32));

    const listed = (await (await api("/v1/keys")).json()) as { total_count: number; items: KeyJson[] };
    expect(listed.total_count).toBe(listed.items.length);
    const item = listed.items.find((k) => k.id === key.id)!;
    const { secret: _secret, ...withoutSecret } = key;
    expect(item).toEqual(withoutSecret);
    expect(JSON.stringify(listed)).not.toContain(key.secret);
  });

  it("makes domain sending keys, filters the list by kind and domain, and refuses bad filters in Mailgun's words", async () => {
    const sending = await create({ role: "sending", kind: "domain", domain_name: DOMAIN.toUpperCase() });
    expect(sending).toMatchObject({ kind: "domain", role: "sending", domain_name: DOMAIN });
    expect(sending).not.toHaveProperty("expires_at");
    const domains = (await (await api(`/v1/keys?kind=domain&domain_name=${DOMAIN}`)).json()) as { items: KeyJson[] };
    expect(domains.items.map((k) => k.id)).toEqual([sending.id]);
    const users = (await (await api("/v1/keys?kind=user")).json()) as { items: KeyJson[] };
    expect(users.items.every((k) => k.kind === "user")).toBe(true);
    const bad = await api("/v1/keys?kind=web");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: "expected `kind` param to be one of [user domain] or absent" });
  });

  it("refuses bad creations with 400 (404 for an unknown domain) and stores nothing", async () => {
    const count = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>())!.n;
    const before = await count();
    const cases: Array<[Record<string, string>, number]> = [
      [{}, 400],
      [{ role: "owner" }, 400],
      [{ role: "sending" }, 400],
      [{ role: "admin", kind: "domain", domain_name: DOMAIN }, 400],
      [{ role: "basic", expiration: "0" }, 400],
      [{ role: "basic", expiration: "soon" }, 400],
      [{ role: "sending", kind: "domain", domain_name: "nowhere.example.com" }, 404],
    ];
    for (const [fields, status] of cases) {
      const response = await api("/v1/keys", { method: "POST", body: form(fields) });
      expect(response.status, JSON.stringify(fields)).toBe(status);
      expect(Object.keys((await response.json()) as object), JSON.stringify(fields)).toEqual(["message"]);
    }
    expect(await count()).toBe(before);
  });

  it("stops at the key limit in the same statement that inserts", async () => {
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>())!;
    const { id } = newKeySecret();
    const key = { id, role: "basic" as const, kind: "user" as const, domainName: null, description: "", createdAt: Date.now(), expiresAt: null };
    expect(await insertKey(env.DB, key, await hashKeySecret(id), n)).toBe(false);
    expect(await findKeyById(env.DB, id)).toBeNull();
    expect(await insertKey(env.DB, key, await hashKeySecret(id), n + 1)).toBe(true);
    expect(MAX_API_KEYS).toBe(1_000);
  });

  it("deletes a key in Mailgun's shape, and says when there is no such key", async () => {
    const key = await create({ role: "basic" });
    const deleted = await api(`/v1/keys/${key.id}`, { method: "DELETE" });
    expect(await deleted.json()).toEqual({ message: "key deleted" });
    const again = await api(`/v1/keys/${key.id}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ message: "no key matching id" });
  });
});

describe("a key's end", () => {
  it("a deleted key stops working at once", async () => {
    const key = await create({ role: "developer" });
    expect((await asKey(key.secret, "/v4/domains")).status).toBe(200); // now remembered by the isolate
    expect((await api(`/v1/keys/${key.id}`, { method: "DELETE" })).status).toBe(200);
    const after = await asKey(key.secret, "/v4/domains");
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ message: "Invalid private key" });
  });

  it("a key deleted by another isolate works here for at most KEY_CACHE_MS", async () => {
    const key = await create({ role: "basic" });
    const t0 = Date.now();
    expect(await authenticateKey(testEnv, key.secret, t0)).toMatchObject({ id: key.id, role: "basic" });
    // Deleted behind this isolate's back, as another isolate's DELETE would.
    await env.DB.prepare("DELETE FROM api_keys WHERE id = ?1").bind(key.id).run();
    expect(await authenticateKey(testEnv, key.secret, t0 + KEY_CACHE_MS - 1)).toMatchObject({ id: key.id });
    expect(await authenticateKey(testEnv, key.secret, t0 + KEY_CACHE_MS)).toBeNull();
    expect(KEY_CACHE_MS).toBeLessThanOrEqual(5_000);
  });

  it("an expired key stops working at its expiry, even while the isolate remembers it", async () => {
    const key = await create({ role: "admin", expiration: "2" });
    const expiresAt = Date.parse(`${key.expires_at}Z`);
    expect(await authenticateKey(testEnv, key.secret, expiresAt - 1_000)).toMatchObject({ id: key.id, role: "admin" });
    expect(await authenticateKey(testEnv, key.secret, expiresAt + 1)).toBeNull();
  });

  it("an expired key is refused over HTTP and listed as disabled", async () => {
    const { id, secret } = newKeySecret();
    const now = Date.now();
    await insertKey(
      env.DB,
      { id, role: "admin", kind: "user", domainName: null, description: "old", createdAt: now - 7_200_000, expiresAt: now - 3_600_000 },
      await hashKeySecret(secret),
      MAX_API_KEYS,
    );
    expect((await asKey(secret, "/v4/domains")).status).toBe(401);
    const listed = (await (await api("/v1/keys")).json()) as { items: KeyJson[] };
    expect(listed.items.find((k) => k.id === id)).toMatchObject({ is_disabled: true, disabled_reason: "expired" });
  });

  it("only the key's exact secret works: not its id, not its hash", async () => {
    const key = await create({ role: "admin" });
    for (const wrong of [key.id, await hashKeySecret(key.secret), key.secret.toUpperCase(), `${key.secret} `]) {
      expect((await asKey(wrong, "/v4/domains")).status, wrong).toBe(401);
    }
    expect((await asKey(key.secret, "/v4/domains")).status).toBe(200);
  });
});
