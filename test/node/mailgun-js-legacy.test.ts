// The legacy mailgun-js 0.22 client, unchanged, against a running Worker: its domain calls go to
// /v3/domains (issue 11, item 17), and Ghost's Mailgun analytics, which drove mailgun-js this way,
// follows `paging.next` by stripping only Mailgun's own origin and asking mailgun-js for the rest,
// so it requests /v3http://host:port/v3/{d}/events/{token} (item 18).
import mailgunJs from "mailgun-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "./start-worker";

let worker: RunningWorker;
const DOMAIN = "legacy.example.com";

/** A client set up the way Ghost's analytics provider sets one up from its Mailgun base URL. */
function legacyClient(baseUrl: string, domain = DOMAIN) {
  const url = new URL(baseUrl);
  return mailgunJs({ apiKey: worker.apiKey, domain, protocol: url.protocol, host: url.hostname, port: url.port, endpoint: url.pathname });
}

beforeAll(async () => {
  worker = await startWorker();
});
afterAll(async () => worker?.stop());

describe("mailgun-js 0.22 against Tidings", () => {
  it("creates, reads, lists, verifies and deletes domains on /v3/domains", async () => {
    const mg = legacyClient(`${worker.url}/v3`);
    const created = await mg.domains().create({ name: DOMAIN });
    expect(created).toMatchObject({ message: "Domain has been created", domain: { name: DOMAIN } });
    const info = await mg.domains(DOMAIN).info();
    expect(info.domain.name).toBe(DOMAIN);
    expect(info.sending_dns_records).toContainEqual(expect.objectContaining({ record_type: "CNAME", name: `email.${DOMAIN}` }));
    expect((await mg.domains().list()).items.map((d: { name: string }) => d.name)).toContain(DOMAIN);
    // The path segment /verify is a resource of its own in mailgun-js, with the PUT as its verify().
    expect((await mg.domains(DOMAIN).verify().verify()).domain.name).toBe(DOMAIN);

    // Its tracking calls were already on /v3/domains/{d}/tracking.
    await mg.domains(DOMAIN).tracking().open().update({ active: "yes" });
    expect((await mg.domains(DOMAIN).tracking().info()).tracking.open.active).toBe(true);

    const other = "legacy-gone.example.com";
    await mg.domains().create({ name: other });
    expect(await mg.domains(other).delete()).toEqual({ message: "Domain has been deleted" });
    await expect(mg.domains(other).info()).rejects.toMatchObject({ statusCode: 404 });
  });

});

describe("Ghost's Mailgun analytics (mailgun-js 0.22) against Tidings", () => {
  const GHOST = "ghost.example.com";
  beforeAll(async () => {
    await legacyClient(`${worker.url}/v3`, GHOST).domains().create({ name: GHOST });
  });

  it("follows paging.next the way Ghost's Mailgun analytics does", async () => {
    const mg = legacyClient(`${worker.url}/v3`, GHOST);
    const sent: string[] = [];
    for (const to of ["a@example.org", "b@example.org", "c@example.org", "d@example.org", "e@example.org"]) {
      await mg.messages().send({ from: `me@${GHOST}`, to, subject: "Hi", text: "Hi", "o:testmode": "yes" });
      sent.push(to);
    }
    for (let tries = 0; tries < 100; tries++) {
      if ((await mg.events().get({ event: "accepted", limit: 300 })).items.length >= sent.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    // Ghost's _fetchPages: the first page through events().get, every next one through
    // mailgun.get(next), after removing Mailgun's own origin, which leaves ours in place.
    const seen: string[] = [];
    let page = await mg.events().get({ event: "accepted", limit: 2, ascending: "yes" });
    let pages = 0;
    while (page.items.length > 0) {
      seen.push(...page.items.map((item: { recipient: string }) => item.recipient));
      const nextPageUrl: string = page.paging.next.replace(/https:\/\/api\.(eu\.)?mailgun\.net\/v3/, "");
      expect(nextPageUrl.startsWith(`${worker.url}/v3/${GHOST}/events/`)).toBe(true);
      page = await mg.get(nextPageUrl);
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(sent);
  });

  it("does not follow an embedded host that is not ours", async () => {
    const mg = legacyClient(`${worker.url}/v3`, GHOST);
    const first = await mg.events().get({ event: "accepted", limit: 2 });
    const foreign = (first.paging.next as string).replace(worker.url, "http://elsewhere.example:8080");
    await expect(mg.get(foreign)).rejects.toMatchObject({ statusCode: 404 });
  });
});
