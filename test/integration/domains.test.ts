import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, createDomain, form, uniqueDomain } from "../helpers";

describe("API access", () => {
  it("refuses a missing or wrong key with 401 and a message", async () => {
    const none = await SELF.fetch("http://127.0.0.1/v4/domains");
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ message: "Invalid private key" });
    const wrong = await SELF.fetch("http://127.0.0.1/v4/domains", { headers: { authorization: `Basic ${btoa("api:nope")}` } });
    expect(wrong.status).toBe(401);
    const wrongUser = await SELF.fetch("http://127.0.0.1/v4/domains", { headers: { authorization: `Basic ${btoa("bob:test-api-key")}` } });
    expect(wrongUser.status).toBe(401);
    expect((await api("/v4/domains")).status).toBe(200);
  });
});

describe("Domains API", () => {
  it("creates, reads, lists, updates and deletes a domain in Mailgun's shapes", async () => {
    const name = uniqueDomain("dom");
    const created = await api("/v4/domains", { method: "POST", body: form({ name, web_prefix: "track" }) });
    expect(created.status).toBe(200);
    const body = (await created.json()) as any;
    expect(body.message).toBe("Domain has been created");
    expect(body.domain).toMatchObject({ name, web_prefix: "track", web_scheme: "http", state: "active" });
    expect(new Date(body.domain.created_at).getTime()).toBeGreaterThan(0);
    expect(body.sending_dns_records).toContainEqual(expect.objectContaining({ record_type: "CNAME", name: `track.${name}`, value: "track.tidings.test" }));

    const again = await api("/v4/domains", { method: "POST", body: form({ name }) });
    expect(again.status).toBe(400);

    const got = (await (await api(`/v4/domains/${name}`)).json()) as any;
    expect(got.domain.name).toBe(name);
    expect(got.sending_dns_records[0].name).toBe(`track.${name}`);

    const list = (await (await api(`/v4/domains?search=${name}`)).json()) as any;
    expect(list.total_count).toBe(1);
    expect(list.items[0].name).toBe(name);

    const updated = (await (await api(`/v4/domains/${name}`, { method: "PUT", body: form({ web_scheme: "https", web_prefix: "email" }) })).json()) as any;
    expect(updated.domain).toMatchObject({ web_scheme: "https", web_prefix: "email" });
    expect(updated.sending_dns_records[0].name).toBe(`email.${name}`);

    expect(await (await api(`/v3/domains/${name}`, { method: "DELETE" })).json()).toEqual({ message: "Domain has been deleted" });
    expect((await api(`/v4/domains/${name}`)).status).toBe(404);
  });

  it("answers bad input with 400 and a message", async () => {
    for (const fields of <Array<Record<string, string>>>[
      {},
      { name: "not a domain" },
      { name: uniqueDomain(), web_scheme: "ftp" },
      { name: uniqueDomain(), web_prefix: "a.b" },
    ]) {
      const response = await api("/v4/domains", { method: "POST", body: form(fields) });
      expect(response.status).toBe(400);
      expect(((await response.json()) as any).message).toEqual(expect.any(String));
    }
    expect((await api("/v4/domains?limit=5000")).status).toBe(400);
    expect((await api(`/v4/domains/${uniqueDomain()}`, { method: "PUT", body: form({ web_scheme: "https" }) })).status).toBe(404);
  });
});

describe("Tracking settings API", () => {
  it("reads and updates open, click and unsubscribe settings as mailgun.js sends them", async () => {
    const name = uniqueDomain("trk");
    await createDomain(name);
    const initial = (await (await api(`/v3/domains/${name}/tracking`)).json()) as any;
    expect(initial.tracking).toMatchObject({
      open: { active: false, place_at_the_top: false },
      click: { active: false },
      unsubscribe: { active: false, html_footer: expect.stringContaining("%unsubscribe_url%"), text_footer: expect.stringContaining("%unsubscribe_url%") },
      web_scheme: "http",
    });

    const open = (await (
      await api(`/v3/domains/${name}/tracking/open`, { method: "PUT", body: form({ active: "yes", place_at_the_top: "true" }) })
    ).json()) as any;
    expect(open).toEqual({ message: "Domain tracking settings have been updated", open: { active: true, place_at_the_top: true } });
    const click = (await (await api(`/v3/domains/${name}/tracking/click`, { method: "PUT", body: form({ active: "htmlonly" }) })).json()) as any;
    expect(click.click).toEqual({ active: "htmlonly" });
    const unsub = (await (
      await api(`/v3/domains/${name}/tracking/unsubscribe`, {
        method: "PUT",
        body: form({ active: "true", html_footer: "<p>%unsubscribe_url%</p>", text_footer: "bye %unsubscribe_url%" }),
      })
    ).json()) as any;
    expect(unsub.unsubscribe).toEqual({ active: true, html_footer: "<p>%unsubscribe_url%</p>", text_footer: "bye %unsubscribe_url%" });

    const after = (await (await api(`/v3/domains/${name}/tracking`)).json()) as any;
    expect(after.tracking.open.active).toBe(true);
    expect(after.tracking.click.active).toBe("htmlonly");
    expect(after.tracking.unsubscribe.active).toBe(true);

    const urlencoded = await api(`/v3/domains/${name}/tracking/click`, {
      method: "PUT",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "active=no",
    });
    expect(((await urlencoded.json()) as any).click).toEqual({ active: false });

    const bad = await api(`/v3/domains/${name}/tracking/open`, { method: "PUT", body: form({ active: "maybe" }) });
    expect(bad.status).toBe(400);
    expect((await api(`/v3/domains/${uniqueDomain()}/tracking`)).status).toBe(404);
  });
});

describe("Domains API under /v3 (mailgun-js 0.22 and older mailgun.js call these)", () => {
  it("creates, reads, lists, verifies, updates and deletes with the same shapes as /v4", async () => {
    const name = uniqueDomain("v3dom");
    const created = await api("/v3/domains", { method: "POST", body: form({ name, web_prefix: "track" }) });
    expect(created.status).toBe(200);
    const body = (await created.json()) as any;
    expect(body).toMatchObject({ message: "Domain has been created", domain: { name, web_prefix: "track", state: "active" } });
    expect(body.sending_dns_records).toContainEqual(expect.objectContaining({ record_type: "CNAME", name: `track.${name}` }));
    expect((await api("/v3/domains", { method: "POST", body: form({ name }) })).status).toBe(400);

    const v3 = await api(`/v3/domains/${name}`);
    expect(v3.status).toBe(200);
    expect(await v3.json()).toEqual(await (await api(`/v4/domains/${name}`)).json());
    expect(await (await api(`/v3/domains?limit=1000`)).json()).toEqual(await (await api(`/v4/domains?limit=1000`)).json());
    expect((await (await api(`/v3/domains/${name}/verify`, { method: "PUT" })).json()) as any).toMatchObject({ domain: { name } });
    expect((await (await api(`/v3/domains/${name}`, { method: "PUT", body: form({ spam_action: "tag" }) })).json()) as any).toMatchObject({
      message: "Domain has been updated",
      domain: { spam_action: "tag" },
    });
    expect((await api(`/v3/domains?skip=1e20`)).status).toBe(400);

    expect(await (await api(`/v3/domains/${name}`, { method: "DELETE" })).json()).toEqual({ message: "Domain has been deleted" });
    expect(await (await api(`/v3/domains/${name}`)).json()).toEqual({ message: "Domain not found" });
  });
});
