// mailgun.js 14, unchanged, against a running Worker: stats, tags (legacy and v1), metrics and
// logs, after messages sent through the Messages API were rolled up by the scheduled handler.
import Mailgun from "mailgun.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "./start-worker";

let worker: RunningWorker;
let mg: ReturnType<InstanceType<typeof Mailgun>["client"]>;
const DOMAIN = "mgjs-stats.example.com";

/** What the cron trigger does every few minutes (wrangler's local scheduled handler endpoint). */
async function runCron(): Promise<void> {
  const response = await fetch(`${worker.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  worker = await startWorker();
  mg = new Mailgun(FormData).client({ username: "api", key: worker.apiKey, url: worker.url });
  await mg.domains.create({ name: DOMAIN });
  for (const to of ["a@example.org", "b@example.org"]) {
    await mg.messages.create(DOMAIN, { from: `me@${DOMAIN}`, to, subject: "Hi", text: "Hi", "o:tag": ["Welcome"], "o:testmode": true });
  }
  // Accepted and (test-mode) delivered for both, once the queue has delivered its batches.
  for (let i = 0; i < 100; i++) {
    const page = await mg.events.get(DOMAIN, { limit: 10 });
    if (page.items.length >= 4) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await runCron();
});
afterAll(async () => worker?.stop());

describe("mailgun.js stats, tags, metrics and logs against Tidings", () => {
  it("stats.getDomain and stats.getAccount", async () => {
    const stats = await mg.stats.getDomain(DOMAIN, { event: ["accepted", "delivered"], duration: "1d" } as any);
    expect(stats.start).toBeInstanceOf(Date);
    expect(stats.resolution).toBe("day");
    const totals = stats.stats.reduce((n: number, s: any) => n + s.accepted.outgoing + s.delivered.total, 0);
    expect(totals).toBe(4);
    expect(stats.stats[0]!.time).toBeInstanceOf(Date);
    const account = await mg.stats.getAccount({ event: ["accepted"], duration: "1d" } as any);
    expect(account.stats.reduce((n: number, s: any) => n + s.accepted.total, 0)).toBe(2);
    await expect(mg.stats.getDomain(DOMAIN, {} as any)).rejects.toMatchObject({ status: 400 });
  });

  it("domains.domainTags: list, get, update, statistic, aggregates", async () => {
    const list = await mg.domains.domainTags.list(DOMAIN);
    expect(list.items.map((t: any) => t.tag)).toEqual(["welcome"]);
    expect(list.items[0]!["first-seen"]).toBeInstanceOf(Date);
    expect(Number.isNaN((list.items[0]!["first-seen"] as Date).getTime())).toBe(false);
    expect((list.pages as any).next.iteratorPosition).toBe("welcome");
    expect(await mg.domains.domainTags.update(DOMAIN, "welcome", "Welcome mails")).toMatchObject({ message: "Tag updated" });
    expect(await mg.domains.domainTags.get(DOMAIN, "welcome")).toMatchObject({ tag: "welcome", description: "Welcome mails" });
    const statistic = await mg.domains.domainTags.statistic(DOMAIN, "welcome", { event: "delivered", duration: "1d" } as any);
    expect(statistic).toMatchObject({ tag: "welcome", description: "Welcome mails", resolution: "day" });
    expect(statistic.stats.reduce((n: number, s: any) => n + s.delivered.total, 0)).toBe(2);
    const providers = await mg.domains.domainTags.providers(DOMAIN, "welcome");
    expect((providers as any).provider["example.org"]).toMatchObject({ accepted: 2, delivered: 2 });
    expect(await mg.domains.domainTags.countries(DOMAIN, "welcome")).toMatchObject({ tag: "welcome", country: {} });
    expect(await mg.domains.domainTags.devices(DOMAIN, "welcome")).toMatchObject({ tag: "welcome", device: {} });
  });

  it("tags: list, update, limits, destroy", async () => {
    const list = await mg.tags.list({ tag: "wel" } as any);
    expect(list.items.map((t: any) => t.tag)).toEqual(["welcome"]);
    expect(list.items[0]!.first_seen).toBeInstanceOf(Date);
    expect(await mg.tags.update("welcome", "Renamed")).toMatchObject({ message: "Tag updated" });
    expect(await mg.tags.limits()).toMatchObject({ limit: 20000, count: 1, limit_reached: false });
    expect(await mg.tags.destroy("welcome")).toMatchObject({ message: "Tag deleted" });
    expect((await mg.tags.list({} as any)).items).toEqual([]);
  });

  it("metrics.getAccount", async () => {
    const result = await mg.metrics.getAccount({
      start: new Date(Date.now() - 86_400_000),
      end: new Date(Date.now() + 60_000),
      resolution: "day" as any,
      dimensions: ["domain"],
      metrics: ["accepted_count", "delivered_count", "delivered_rate"],
      filter: { AND: [{ attribute: "domain", comparator: "=", values: [{ label: DOMAIN, value: DOMAIN }] }] },
      include_aggregates: true,
    });
    expect(result.start).toBeInstanceOf(Date);
    expect(result.items).toEqual([
      {
        dimensions: [{ dimension: "domain", value: DOMAIN, display_value: DOMAIN }],
        metrics: { accepted_count: 2, delivered_count: 2, delivered_rate: "1.0000" },
      },
    ]);
  });

  it("logs.list", async () => {
    const result = await mg.logs.list({
      start: new Date(Date.now() - 3_600_000),
      events: ["delivered"],
      filter: { AND: [{ attribute: "domain", comparator: "=", values: [{ label: DOMAIN, value: DOMAIN }] }] },
      pagination: { sort: "timestamp:asc", limit: 10 },
    } as any);
    expect(result.items).toHaveLength(2);
    expect(result.items[0]!["@timestamp"]).toBeInstanceOf(Date);
    expect(result.items.map((i: any) => i.recipient).sort()).toEqual(["a@example.org", "b@example.org"]);
  });
});
