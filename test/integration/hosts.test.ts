// Which host serves what: a domain's tracking host serves /o, /c, /u and robots.txt only; the API
// and the panel answer only on the deployment's own hosts (SHARED_HOSTS: 127.0.0.1, localhost and
// shared.test in the tests' config).
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { API_KEY, form } from "../helpers";

const AUTH = { authorization: `Basic ${btoa(`api:${API_KEY}`)}` };
const TRACKING_HOSTS = ["http://email.customer.example", "https://email.customer.example", "http://links.other.example:8080"];
const OWN_HOSTS = ["http://127.0.0.1", "http://127.0.0.1:8787", "http://localhost", "https://shared.test", "http://SHARED.test"];

async function expectPlainNotFound(response: Response, what: string): Promise<void> {
  expect(response.status, what).toBe(404);
  expect(response.headers.get("content-type"), what).toMatch(/^text\/html/);
  expect(await response.text(), what).not.toMatch(/^\s*\{/);
}

describe("hosts", () => {
  it("serve neither the API nor the panel on a domain's tracking host: a plain 404 page", async () => {
    for (const origin of TRACKING_HOSTS) {
      await expectPlainNotFound(await SELF.fetch(`${origin}/app/sign-in`, { redirect: "manual" }), `${origin}/app/sign-in`);
      await expectPlainNotFound(await SELF.fetch(`${origin}/app`, { redirect: "manual" }), `${origin}/app`);
      await expectPlainNotFound(
        await SELF.fetch(`${origin}/app/sign-in`, { method: "POST", body: form({ api_key: API_KEY }), redirect: "manual" }),
        `POST ${origin}/app/sign-in`,
      );
      await expectPlainNotFound(await SELF.fetch(`${origin}/v4/domains`, { headers: AUTH }), `${origin}/v4/domains`);
      await expectPlainNotFound(
        await SELF.fetch(`${origin}/v3/domains`, { method: "POST", headers: AUTH, body: form({ name: "x.example.com" }) }),
        `POST ${origin}/v3/domains`,
      );
      await expectPlainNotFound(await SELF.fetch(`${origin}/`, { headers: { accept: "text/html" }, redirect: "manual" }), `${origin}/`);
      await expectPlainNotFound(await SELF.fetch(`${origin}/favicon.ico`), `${origin}/favicon.ico`);
    }
  });

  it("serve the tracking paths and a robots.txt that disallows everything on a tracking host", async () => {
    for (const origin of TRACKING_HOSTS) {
      const robots = await SELF.fetch(`${origin}/robots.txt`);
      expect(robots.status).toBe(200);
      expect(robots.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await robots.text()).toBe("User-agent: *\nDisallow: /\n");
      const pixel = await SELF.fetch(`${origin}/o/garbage`);
      expect([pixel.status, pixel.headers.get("content-type")]).toEqual([200, "image/gif"]);
      const click = await SELF.fetch(`${origin}/c/garbage`, { redirect: "manual" });
      expect(click.status).toBe(404);
      expect(await click.text()).toContain("not valid");
    }
  });

  it("serve the API and the panel on the deployment's own hosts, whatever the port or case", async () => {
    for (const origin of OWN_HOSTS) {
      const listed = await SELF.fetch(`${origin}/v4/domains`, { headers: AUTH });
      expect(listed.status, origin).toBe(200);
      expect((await SELF.fetch(`${origin}/app/sign-in`)).status, origin).toBe(200);
      expect(await (await SELF.fetch(`${origin}/robots.txt`)).text()).toBe("User-agent: *\nDisallow: /\n");
      // Unknown API paths stay JSON there.
      expect(await (await SELF.fetch(`${origin}/nope`)).json()).toEqual({ message: "Not found" });
    }
  });
});
