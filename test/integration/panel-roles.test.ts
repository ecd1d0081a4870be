// The panel by role, over HTTP: any user key signs in and a domain sending key cannot; a basic
// key's pages have no changing forms and its form posts are refused on the server, changing
// nothing; the Keys page is an admin's and shows a new secret once; a session ends with its key
// (deleted or expired) and cannot claim another role; the panel's API calls carry the signed-in
// key's role, never the master key's. The browser side is test/browser/panel-roles.test.ts.
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../src/domain/access";
import type { Env } from "../../src/env";
import { callApi } from "../../src/panel/api-client";
import type { PanelEnv } from "../../src/panel/context";
import { newSessionCookieValue } from "../../src/panel/session";
import { API_KEY, api, BASE, createDomain, form, uniqueDomain } from "../helpers";

const DOMAIN = uniqueDomain("prole");
const BOUNCED = "kept@example.org";
const keys: Record<"admin" | "developer" | "basic" | "sending", { id: string; secret: string }> = {} as never;

async function makeKey(fields: Record<string, string>): Promise<{ id: string; secret: string }> {
  const response = await api("/v1/keys", { method: "POST", body: form(fields) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { key: { id: string; secret: string } }).key;
}

function signInWith(secret: string): Promise<Response> {
  return SELF.fetch(`${BASE}/app/sign-in`, { method: "POST", body: form({ api_key: secret }), redirect: "manual" });
}

async function sessionOf(secret: string): Promise<string> {
  const response = await signInWith(secret);
  expect([response.status, response.headers.get("location")]).toEqual([303, "/app"]);
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

function page(path: string, cookie: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { ...init, headers: { cookie }, redirect: "manual" });
}

async function csrfOf(cookie: string): Promise<string> {
  return /name="_csrf" value="([^"]+)"/.exec(await (await page("/app/logs", cookie)).text())![1]!;
}

/** The actions of a page's POST forms other than signing out. */
const changingForms = (html: string) => [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]).filter((a) => a !== "/app/sign-out");

beforeAll(async () => {
  await createDomain(DOMAIN);
  expect((await api(`/v3/${DOMAIN}/bounces`, { method: "POST", body: form({ address: BOUNCED }) })).status).toBe(200);
  for (const role of ["admin", "developer", "basic"] as const) keys[role] = await makeKey({ role });
  keys.sending = await makeKey({ role: "sending", kind: "domain", domain_name: DOMAIN });
});

describe("signing in by role", () => {
  it("signs in admin, developer and basic keys, and names the role on every page", async () => {
    for (const role of ["admin", "developer", "basic"] as const) {
      const cookie = await sessionOf(keys[role].secret);
      expect(cookie).toMatch(new RegExp(`^tidings_session=\\d+\\.[A-Za-z0-9_-]+\\.${keys[role].id}\\.${role}\\.[A-Za-z0-9_-]{43}$`));
      expect(await (await page("/app/logs", cookie)).text()).toContain(`<span class="muted" id="signed-in-role">${role} key</span>`);
    }
  });

  it("refuses a domain sending key, saying why, with no session", async () => {
    const response = await signInWith(keys.sending.secret);
    expect(response.status).toBe(303);
    expect(decodeURIComponent(response.headers.get("location")!)).toContain("A domain sending key only sends mail");
    expect(response.headers.get("set-cookie")).toBeNull();
  });
});

describe("a basic key reads and changes nothing", () => {
  it("shows no changing forms and no Webhooks or Keys sections", async () => {
    const cookie = await sessionOf(keys.basic.secret);
    for (const path of ["/app/logs", "/app/analytics", `/app/suppressions?domain=${DOMAIN}`, "/app/domains", `/app/domains/${DOMAIN}`]) {
      const response = await page(path, cookie);
      expect(response.status, path).toBe(200);
      const html = await response.text();
      expect(changingForms(html), path).toEqual([]);
      expect(html, path).not.toContain('href="/app/webhooks');
      expect(html, path).not.toContain('href="/app/keys');
    }
    const detail = await (await page(`/app/domains/${DOMAIN}`, cookie)).text();
    expect(detail).toContain('<ul id="tracking-settings">');
    expect(await (await page(`/app/suppressions?domain=${DOMAIN}`, cookie)).text()).toContain(BOUNCED);
    for (const path of [`/app/webhooks?domain=${DOMAIN}`, "/app/keys", `/app/logs/message?domain=${DOMAIN}&key=k`]) {
      const refused = await page(path, cookie);
      expect(refused.status, path).toBe(403);
      expect(await refused.text(), path).toContain("you signed in with a basic key");
    }
  });

  it("refuses its form posts on the server, with a valid CSRF token, and changes nothing", async () => {
    const cookie = await sessionOf(keys.basic.secret);
    const _csrf = await csrfOf(cookie);
    const created = uniqueDomain("pnot");
    const posts: Array<[string, Record<string, string>]> = [
      ["/app/domains", { name: created }],
      [`/app/domains/${DOMAIN}/delete`, { confirm: "yes" }],
      [`/app/domains/${DOMAIN}/tracking`, { open: "yes", click: "yes" }],
      ["/app/suppressions/add", { domain: DOMAIN, list: "bounces", address: "new@example.org" }],
      ["/app/suppressions/delete", { domain: DOMAIN, list: "bounces", address: BOUNCED }],
      ["/app/keys", { role: "admin" }],
      ["/app/webhooks/signing-key", { confirm: "yes" }],
    ];
    const keysBefore = await (await api("/v1/keys")).text();
    for (const [path, fields] of posts) {
      const response = await page(path, cookie, { method: "POST", body: form({ _csrf, ...fields }) });
      expect(response.status, path).toBe(403);
    }
    expect((await api(`/v4/domains/${created}`)).status).toBe(404);
    expect((await api(`/v4/domains/${DOMAIN}`)).status).toBe(200);
    expect(((await (await api(`/v3/domains/${DOMAIN}/tracking`)).json()) as { tracking: { open: { active: boolean } } }).tracking.open.active).toBe(false);
    expect((await api(`/v3/${DOMAIN}/bounces/${BOUNCED}`)).status).toBe(200);
    expect((await api(`/v3/${DOMAIN}/bounces/new@example.org`)).status).toBe(404);
    expect(await (await api("/v1/keys")).text()).toBe(keysBefore);
    // Signing out is the one form it may post.
    expect((await page("/app/sign-out", cookie, { method: "POST", body: form({ _csrf }) })).headers.get("set-cookie")).toContain("Max-Age=0");
  });
});

describe("developer and admin keys", () => {
  it("lets a developer change things but not see the Keys page", async () => {
    const cookie = await sessionOf(keys.developer.secret);
    const html = await (await page(`/app/suppressions?domain=${DOMAIN}`, cookie)).text();
    expect(changingForms(html)).toContain("/app/suppressions/add");
    expect(html).toContain('href="/app/webhooks');
    expect(html).not.toContain('href="/app/keys');
    expect((await page("/app/keys", cookie)).status).toBe(403);
    const added = await page("/app/suppressions/add", cookie, {
      method: "POST",
      body: form({ _csrf: await csrfOf(cookie), domain: DOMAIN, list: "complaints", address: "dev@example.org" }),
    });
    expect(added.status).toBe(303);
    expect((await api(`/v3/${DOMAIN}/complaints/dev@example.org`)).status).toBe(200);
  });

  it("lets an admin key list, make and delete keys, showing a new secret once", async () => {
    const cookie = await sessionOf(keys.admin.secret);
    const list = await (await page("/app/keys", cookie)).text();
    for (const role of ["developer", "basic", "sending"] as const) expect(list).toContain(`<tr data-key="${keys[role].id}">`);
    expect(list).toContain(`${keys.admin.id}</code> <span class="badge">yours</span>`);
    for (const role of ["admin", "developer", "basic", "sending"] as const) expect(list).not.toContain(keys[role].secret);
    const _csrf = await csrfOf(cookie);

    const made = await page("/app/keys", cookie, {
      method: "POST",
      body: form({ _csrf, role: "sending", domain_name: DOMAIN, description: "shop", expires_days: "30" }),
    });
    expect(made.status).toBe(200);
    expect(made.headers.get("cache-control")).toBe("no-store");
    const shown = await made.text();
    const secret = /<code id="new-key-secret">([^<]+)<\/code>/.exec(shown)![1]!;
    const id = secret.slice(-17);
    const send = () =>
      SELF.fetch(`${BASE}/v3/${DOMAIN}/messages`, {
        method: "POST",
        body: form({ from: `a@${DOMAIN}`, to: "r@example.org", subject: "s", text: "t", "o:testmode": "yes" }),
        headers: { authorization: `Basic ${btoa(`api:${secret}`)}` },
      });
    expect((await send()).status).toBe(200);
    const after = await (await page("/app/keys", cookie)).text();
    expect(after).toContain(`<tr data-key="${id}">`);
    expect(after).not.toContain(secret);
    const listed = (await (await api("/v1/keys?kind=domain")).json()) as { items: Array<{ id: string; description: string; expires_at?: string }> };
    const item = listed.items.find((k) => k.id === id)!;
    expect(item.description).toBe("shop");
    expect(Date.parse(`${item.expires_at}Z`) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const deleted = await page("/app/keys/delete", cookie, { method: "POST", body: form({ _csrf, id, confirm: "yes" }) });
    expect(new URL(deleted.headers.get("location")!, BASE).searchParams.get("notice")).toBe(`Key ${id} deleted: it no longer works.`);
    expect((await send()).status).toBe(401);
  });
});

describe("a session ends with its key", () => {
  it("ends when the key is deleted", async () => {
    const key = await makeKey({ role: "developer" });
    const cookie = await sessionOf(key.secret);
    expect((await page("/app/logs", cookie)).status).toBe(200);
    expect((await api(`/v1/keys/${key.id}`, { method: "DELETE" })).status).toBe(200);
    const after = await page("/app/logs", cookie);
    expect([after.status, after.headers.get("location")]).toEqual([303, "/app/sign-in"]);
    expect(after.headers.get("set-cookie")).toContain("Max-Age=0");
    expect(
      (await page("/app/suppressions/add", cookie, { method: "POST", body: form({ domain: DOMAIN, list: "bounces", address: "late@example.org" }) })).status,
    ).toBe(401);
  });

  it("ends when the key expires", async () => {
    const key = await makeKey({ role: "basic", expiration: "3600" });
    const cookie = await sessionOf(key.secret);
    expect((await page("/app/logs", cookie)).status).toBe(200);
    // The hour has passed, as far as the stored key goes.
    await env.DB.prepare("UPDATE api_keys SET expires_at = ?1 WHERE id = ?2")
      .bind(Date.now() - 1, key.id)
      .run();
    expect((await page("/app/logs", cookie)).headers.get("location")).toBe("/app/sign-in");
  });

  it("cannot claim another role than its key's, even when signed", async () => {
    const forged = `tidings_session=${await newSessionCookieValue(API_KEY, Date.now(), { id: keys.basic.id, role: "admin" })}`;
    expect((await page("/app/keys", forged)).headers.get("location")).toBe("/app/sign-in");
    const honest = `tidings_session=${await newSessionCookieValue(API_KEY, Date.now(), { id: keys.basic.id, role: "basic" })}`;
    expect((await page("/app/logs", honest)).status).toBe(200);
  });
});

describe("the panel's calls to the API", () => {
  async function asPanel(principal: Principal, method: string, path: string): Promise<number> {
    const probe = new Hono<PanelEnv>().get("/", async (c) => {
      c.set("principal", principal);
      return c.json({ status: (await callApi(c, method, path)).status });
    });
    const response = await probe.request(`${BASE}/`, {}, env as unknown as Env, createExecutionContext());
    return ((await response.json()) as { status: number }).status;
  }

  it("carry the signed-in key's role, not the master key's", async () => {
    const basic: Principal = { id: keys.basic.id, role: "basic", domain: null };
    const developer: Principal = { id: keys.developer.id, role: "developer", domain: null };
    expect(await asPanel(basic, "GET", `/v3/${DOMAIN}/bounces`)).toBe(200);
    expect(await asPanel(basic, "DELETE", `/v3/${DOMAIN}/bounces/${BOUNCED}`)).toBe(403);
    expect((await api(`/v3/${DOMAIN}/bounces/${BOUNCED}`)).status).toBe(200);
    expect(await asPanel(developer, "GET", "/v1/keys")).toBe(403);
    expect(await asPanel({ id: "primary", role: "admin", domain: null }, "GET", "/v1/keys")).toBe(200);
  });
});
