// The legacy mailgun-js 0.22 client, unchanged, against a running Worker: its domain calls go to
// /v3/domains (issue 11, item 17), and Ghost's Mailgun analytics, which drove mailgun-js this way,
// follows `paging.next` by stripping only Mailgun's own origin and asking mailgun-js for the rest,
// so it requests /v3http://host:port/v3/{d}/events/{token} (item 18).
import EmailAnalyticsProviderMailgun from "@tryghost/email-analytics-provider-mailgun";
import mailgunJs from "mailgun-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "./start-worker";

let worker: RunningWorker;
interface GhostEvent {
  type: string;
  recipientEmail: string;
  emailId: string;
}
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

describe("Ghost's Mailgun analytics provider against Tidings", () => {
  const GHOST = "ghost.example.com";
  const RECIPIENTS = 301; // one more than the provider's page of 300, so it must follow paging.next
  beforeAll(async () => {
    const mg = legacyClient(`${worker.url}/v3`, GHOST);
    await mg.domains().create({ name: GHOST });
    const to = Array.from({ length: RECIPIENTS }, (_, i) => `member${i}@example.org`).join(",");
    // A Ghost newsletter: tagged bulk-email, the email's id in a user variable, one send to many.
    await mg
      .messages()
      .send({ from: `me@${GHOST}`, to, subject: "Newsletter", text: "Hi", "o:tag": "bulk-email", "v:email-id": "email-1", "o:testmode": "yes" });
    for (let tries = 0; tries < 300 && (await countDelivered(mg)) < RECIPIENTS; tries++) await new Promise((r) => setTimeout(r, 200));
  });

  /** Delivered events so far, counted by walking the pages (paths relative to the client's /v3). */
  async function countDelivered(mg: ReturnType<typeof legacyClient>): Promise<number> {
    let count = 0;
    let page = await mg.events().get({ event: "delivered", limit: 300 });
    while (page.items.length > 0) {
      count += page.items.length;
      page = await mg.get((page.paging.next as string).slice(`${worker.url}/v3`.length));
    }
    return count;
  }

  /** The provider as Ghost builds it from its settings (mailgun_base_url pointing at Tidings). */
  function ghostProvider() {
    const settings = new Map([
      ["mailgun_api_key", worker.apiKey],
      ["mailgun_domain", GHOST],
      ["mailgun_base_url", `${worker.url}/v3`],
    ]);
    return new EmailAnalyticsProviderMailgun({ config: { get: () => undefined }, settings: { get: (key: string) => settings.get(key) } });
  }

  /** Runs one of the provider's own fetches (its _fetchPages follows paging.next) and collects every batch. */
  async function collect(fetch: (handler: (events: GhostEvent[]) => object) => Promise<{ delivered: number; emailIds: string[] }>) {
    const batches: GhostEvent[][] = [];
    const result = await fetch((events) => {
      batches.push(events);
      return { delivered: events.filter((e) => e.type === "delivered").length, emailIds: events.map((e) => e.emailId) };
    });
    return { batches, result, recipients: batches.flat().map((e) => e.recipientEmail) };
  }

  it("reads every page with fetchAll, newest first, through the provider's own paging code", async () => {
    const { batches, result, recipients } = await collect((handler) => ghostProvider().fetchAll(handler));
    expect(batches.map((b) => b.length)).toEqual([300, 1]);
    expect(result.delivered).toBe(RECIPIENTS);
    expect(result.emailIds).toEqual(["email-1"]);
    expect(new Set(recipients).size).toBe(RECIPIENTS);
  });

  it("reads every page with fetchLatest, oldest first", async () => {
    const { batches, result, recipients } = await collect((handler) => ghostProvider().fetchLatest(Date.now() - 10 * 60_000, handler));
    expect(batches.map((b) => b.length)).toEqual([300, 1]);
    expect(result.delivered).toBe(RECIPIENTS);
    expect(new Set(recipients).size).toBe(RECIPIENTS);
  });

  it("does not follow an embedded host that is not ours", async () => {
    const mg = legacyClient(`${worker.url}/v3`, GHOST);
    const first = await mg.events().get({ event: "delivered", limit: 2 });
    const foreign = (first.paging.next as string).replace(worker.url, "http://elsewhere.example:8080");
    await expect(mg.get(foreign)).rejects.toMatchObject({ statusCode: 404 });
  });
});
