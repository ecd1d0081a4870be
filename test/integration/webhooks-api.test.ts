// Webhooks API in Mailgun's shapes: v3 (one id, up to 3 URLs), v4 (one URL, many ids), the
// signing key, and URL validation.
import { describe, expect, it } from "vitest";
import { api, createDomain, form, uniqueDomain } from "../helpers";

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
    expect(await created.json()).toEqual({ message: "Webhook has been created", webhook: { urls: ["https://hooks.example.org/a", "http://hooks.example.org/b"] } });

    // mailgun.js spells one id `unsubscribe`.
    await api(`/v3/domains/${domain}/webhooks`, { method: "POST", body: form({ id: "unsubscribe", url: "https://hooks.example.org/u" }) });
    expect(await (await api(`/v3/domains/${domain}/webhooks`)).json()).toEqual({
      webhooks: { clicked: { urls: ["https://hooks.example.org/a", "http://hooks.example.org/b"] }, unsubscribed: { urls: ["https://hooks.example.org/u"] } },
    });
    expect(await (await api(`/v3/domains/${domain}/webhooks/clicked`)).json()).toEqual({ webhook: { urls: ["https://hooks.example.org/a", "http://hooks.example.org/b"] } });

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
