// Webhooks API in Mailgun's shapes: v3 (one id, up to 3 URLs), v4 (one URL, many ids), the
// signing key, and URL validation.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { api, apiWith, createDomain, form, uniqueDomain } from "../helpers";

function urls(...values: string[]): FormData {
  const data = new FormData();
  for (const url of values) data.append("url", url);
  return data;
}

describe("v3 domain webhooks", () => {
  it("creates, lists, reads, replaces and deletes a webhook", async () => {
    const domain = uniqueDomain("wh");
    await createDomain(domain);
    const body = urls("https://hooks.example.org/a", "http://hooks.example.org/b");
    body.append("id", "clicked");
    const created = await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body });
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({
      message: "Webhook has been created",
      webhook: { urls: ["https://hooks.example.org/a", "http://hooks.example.org/b"] },
    });

    // mailgun.js spells one id `unsubscribe`.
    await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "unsubscribe", url: "https://hooks.example.org/u" }) });
    expect(await (await api(`/v3/domains/${domain}/webhooks`)).json()).toEqual({
      webhooks: { clicked: { urls: ["https://hooks.example.org/a", "http://hooks.example.org/b"] }, unsubscribed: { urls: ["https://hooks.example.org/u"] } },
    });
    expect(await (await api(`/v3/domains/${domain}/webhooks/clicked`)).json()).toEqual({
      webhook: { urls: ["https://hooks.example.org/a", "http://hooks.example.org/b"] },
    });

    const again = await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "clicked", url: "https://x.example.org/" }) });
    expect(again.status).toBe(400);

    const updated = await api(`/v3/domains/${domain}/webhooks/clicked`, { method: "PUT", body: urls("https://hooks.example.org/c") });
    expect(await updated.json()).toEqual({ message: "Webhook has been updated", webhook: { urls: ["https://hooks.example.org/c"] } });

    const deleted = await api(`/v3/domains/${domain}/webhooks/clicked`, { method: "DELETE" });
    expect(await deleted.json()).toEqual({ message: "Webhook has been deleted", webhook: { urls: ["https://hooks.example.org/c"] } });
    const gone = await api(`/v3/domains/${domain}/webhooks/clicked`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ message: "Webhook not found" });
  });

  it("refuses bad URLs, a fourth URL and unknown ids with 400 and Mailgun's Reason", async () => {
    const domain = uniqueDomain("wh");
    await createDomain(domain);
    for (const bad of ["ftp://hooks.example.org/", "not a url", "javascript:alert(1)", "https://user:pw@hooks.example.org/", "/relative"]) {
      const body = urls(bad);
      body.append("id", "opened");
      const response = await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body });
      expect(response.status, bad).toBe(400);
      const json = (await response.json()) as { message: string; Reason: string };
      expect(json.Reason).toContain("is not a valid url");
      expect(json.message).toBe(json.Reason);
    }
    const four = urls("https://a.example.org/", "https://b.example.org/", "https://c.example.org/", "https://d.example.org/");
    four.append("id", "opened");
    expect((await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: four })).status).toBe(400);
    const unknown = await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "bounced", url: "https://a.example.org/" }) });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { message: string }).message).toContain("invalid");
    expect((await api(`/v3/domains/${domain}/webhooks`)).status).toBe(200);
    expect(await (await api(`/v3/domains/${domain}/webhooks`)).json()).toEqual({ webhooks: {} });
  });

  it("answers 404 for an unknown domain, and a deleted domain takes its webhooks with it", async () => {
    expect((await api(`/v3/domains/${uniqueDomain("none")}/webhooks`)).status).toBe(404);
    const domain = uniqueDomain("wh");
    await createDomain(domain);
    await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "opened", url: "https://a.example.org/" }) });
    await api(`/v3/domains/${domain}`, { method: "DELETE" });
    await createDomain(domain);
    expect(await (await api(`/v3/domains/${domain}/webhooks`)).json()).toEqual({ webhooks: {} });
  });
});

describe("v4 domain webhooks", () => {
  const v4 = (url: string, ids: string[]) => {
    const body = new URLSearchParams({ url });
    for (const id of ids) body.append("event_types", id);
    return body;
  };

  it("maps one URL to many ids, replaces its set, and removes URLs everywhere", async () => {
    const domain = uniqueDomain("wh4");
    await createDomain(domain);
    const created = await api(`/v4/domains/${domain}/webhooks`, { method: "POST", body: v4("https://a.example.org/hook", ["opened", "clicked"]) });
    expect(await created.json()).toEqual({ webhooks: { clicked: { urls: ["https://a.example.org/hook"] }, opened: { urls: ["https://a.example.org/hook"] } } });

    const duplicate = await api(`/v4/domains/${domain}/webhooks`, { method: "POST", body: v4("https://a.example.org/hook", ["clicked"]) });
    expect(duplicate.status).toBe(400);
    expect(await duplicate.json()).toMatchObject({ Reason: "Webhook for event type 'clicked' with URL 'https://a.example.org/hook' already exists" });

    await api(`/v4/domains/${domain}/webhooks`, { method: "POST", body: v4("https://b.example.org/hook", ["clicked"]) });
    const replaced = await api(`/v4/domains/${domain}/webhooks`, { method: "PUT", body: v4("https://a.example.org/hook", ["delivered", "clicked"]) });
    expect(await replaced.json()).toEqual({
      webhooks: { clicked: { urls: ["https://a.example.org/hook", "https://b.example.org/hook"] }, delivered: { urls: ["https://a.example.org/hook"] } },
    });

    const removed = await api(`/v4/domains/${domain}/webhooks?url=${encodeURIComponent("https://a.example.org/hook")}`, { method: "DELETE" });
    expect(await removed.json()).toEqual({ webhooks: { clicked: { urls: ["https://b.example.org/hook"] } } });
  });
});

describe("signing key", () => {
  it("is made once, kept, and regenerated on POST", async () => {
    const first = (await (await api("/v5/accounts/http_signing_key")).json()) as { http_signing_key: string };
    expect(first.http_signing_key).toMatch(/^key-[0-9a-f]{32}$/);
    expect(await (await api("/v5/accounts/http_signing_key")).json()).toEqual(first);
    const regenerated = (await (await api("/v5/accounts/http_signing_key", { method: "POST" })).json()) as { message: string; http_signing_key: string };
    expect(regenerated.message).toBe("regenerated HTTP signing key for account");
    expect(regenerated.http_signing_key).not.toBe(first.http_signing_key);
    expect(await (await api("/v5/accounts/http_signing_key")).json()).toEqual({ http_signing_key: regenerated.http_signing_key });
  });
});

describe("webhook URLs on hosts that are not public", () => {
  // The tests' own config allows them (local receivers); these calls run with the deployed default.
  const strict: Env = { ...(env as unknown as Env), WEBHOOK_ALLOW_PRIVATE_URLS: "" };
  const allowing: Env = { ...strict, WEBHOOK_ALLOW_PRIVATE_URLS: "true" };
  const PRIVATE = [
    "http://127.0.0.1:9000/hook",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://localhost:8080/",
    "https://hooks.localhost/",
  ];

  it("are refused with 400 and Mailgun's Reason on every route that takes a URL, and nothing is stored", async () => {
    const domain = uniqueDomain("whp");
    await createDomain(domain);
    for (const url of PRIVATE) {
      const calls: Array<[string, string, FormData]> = [
        ["POST", `/v3/domains/${domain}/webhooks`, form({ id: "opened", url })],
        ["PUT", `/v3/domains/${domain}/webhooks/opened`, form({ url })],
        ["POST", `/v4/domains/${domain}/webhooks`, form({ url, event_types: "opened" })],
        ["PUT", `/v4/domains/${domain}/webhooks`, form({ url, event_types: "opened" })],
        ["PUT", `/v3/domains/${domain}/webhooks/opened/test`, form({ url })],
      ];
      for (const [method, path, body] of calls) {
        const response = await apiWith(strict, path, { method, body });
        expect(response.status, `${method} ${path} ${url}`).toBe(400);
        const json = (await response.json()) as { message: string; Reason: string };
        expect(json.Reason, url).toMatch(/is not allowed: its host is .+; webhooks are posted only to public internet hosts/);
        expect(json.message).toBe(json.Reason);
      }
    }
    expect(await (await apiWith(strict, `/v3/domains/${domain}/webhooks`)).json()).toEqual({ webhooks: {} });
    // A public host is taken as before.
    expect(
      (await apiWith(strict, `/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "opened", url: "https://hooks.example.org/x" }) })).status,
    ).toBe(200);
  });

  it("are taken when the operator allows them, and the test call then refuses a stored one once the setting is off", async () => {
    const domain = uniqueDomain("whp");
    await createDomain(domain);
    const created = await apiWith(allowing, `/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "opened", url: "http://127.0.0.1:9/hook" }) });
    expect(created.status).toBe(200);
    const tested = await apiWith(strict, `/v3/domains/${domain}/webhooks/opened/test`, { method: "PUT", body: new FormData() });
    expect(tested.status).toBe(200);
    expect(await tested.json()).toEqual({ code: 0, message: expect.stringMatching(/^not posted: the URL's host is a loopback address/) });
    // Deleting it needs no allowance.
    const removed = await apiWith(strict, `/v4/domains/${domain}/webhooks?url=${encodeURIComponent("http://127.0.0.1:9/hook")}`, { method: "DELETE" });
    expect(await removed.json()).toEqual({ webhooks: {} });
  });
});
