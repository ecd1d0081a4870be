// The Stats API and tag stats in Mailgun's shapes, read from the rollups the cron made.
import { describe, expect, it } from "vitest";
import { rollUpStats } from "../../src/cron/rollups";
import { api, createDomain, uniqueDomain } from "../helpers";
import { APPLE_PROXY_UA, seedEvents, testEnv } from "../support/stats-seed";

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const json = async (path: string) => {
  const response = await api(path);
  return { status: response.status, body: (await response.json()) as any };
};

async function seeded(prefix: string): Promise<string> {
  const domain = uniqueDomain(prefix);
  await createDomain(domain);
  await seedEvents(domain, [
    { event: "accepted", ms: today - 2 * DAY + 1000, tags: ["Promo"] },
    { event: "delivered", ms: today - 2 * DAY + 2000, tags: ["promo"] },
    { event: "opened", ms: today + 1000, tags: ["promo"] },
    { event: "opened", ms: today + 2000, tags: ["promo"] },
    { event: "opened", ms: today + 3000, tags: ["promo"], userAgent: APPLE_PROXY_UA, country: "US" },
    { event: "clicked", ms: today + 4000, tags: ["promo"], recipient: "ann@example.org" },
    { event: "failed", ms: today + 5000, reason: "suppress-complaint" },
  ]);
  await rollUpStats(testEnv, Date.now());
  return domain;
}

describe("GET /v3/{domain}/stats/total", () => {
  it("answers the nested shape per day, zero-filled, with unique opens and clicks", async () => {
    const domain = await seeded("st");
    const { status, body } = await json(`/v3/${domain}/stats/total?event=accepted&event=delivered,opened&event=clicked&event=failed&duration=3d`);
    expect(status).toBe(200);
    expect(body.resolution).toBe("day");
    expect(body.stats).toHaveLength(4);
    const last = body.stats[3];
    expect(last.time).toBe(new Date(today).toUTCString().replace("GMT", "UTC"));
    expect(last.opened).toEqual({ total: 3, unique: 1 });
    expect(last.clicked).toEqual({ total: 1, unique: 1 });
    expect(last.failed.permanent).toMatchObject({ "suppress-complaint": 1, total: 1 });
    expect(last.accepted).toEqual({ incoming: 0, outgoing: 0, total: 0 });
    expect(body.stats[1].accepted).toEqual({ incoming: 0, outgoing: 1, total: 1 });
    expect(body.stats[1].delivered).toEqual({ smtp: 1, http: 0, optimized: 0, total: 1 });
    expect(Object.keys(last).sort()).toEqual(["accepted", "clicked", "delivered", "failed", "opened", "time"]);
    expect(new Date(body.start).getTime()).toBe(today - 3 * DAY);
  });

  it("answers hourly and monthly resolutions", async () => {
    const domain = await seeded("res");
    const hourly = await json(`/v3/${domain}/stats/total?event=opened&start=${(today - DAY) / 1000}&end=${(today + 3600_000) / 1000}&resolution=hour`);
    expect(hourly.body.stats).toHaveLength(26);
    expect(hourly.body.stats[24].opened).toEqual({ total: 3, unique: 1 });
    const monthly = await json(`/v3/${domain}/stats/total?event=opened&duration=1m`);
    expect(monthly.body.resolution).toBe("month");
    expect(monthly.body.stats.at(-1).opened).toEqual({ total: 3, unique: 1 });
  });

  it("answers 400 for a missing or unknown event and bad dates, 404 for an unknown domain", async () => {
    const domain = await seeded("bad");
    expect(await json(`/v3/${domain}/stats/total`)).toEqual({ status: 400, body: { message: "Missing mandatory parameter: event" } });
    for (const query of ["event=bounced", "event=opened&start=someday", "event=opened&resolution=week", "event=opened&duration=3w"]) {
      const { status, body } = await json(`/v3/${domain}/stats/total?${query}`);
      expect(status, query).toBe(400);
      expect(body.message, query).toBeTypeOf("string");
    }
    expect((await json("/v3/nowhere.example.com/stats/total?event=opened")).status).toBe(404);
  });

  it("refuses an hourly range from year 100 to 6000 with the count of its buckets, on every stats route", async () => {
    const domain = await seeded("huge");
    const range = `start=${encodeURIComponent("Fri, 01 Jan 0100 00:00:00 +0000")}&end=${encodeURIComponent("Sat, 01 Jan 6000 00:00:00 +0000")}&resolution=hour`;
    const refusal = { status: 400, body: { message: "The range holds 51718321 hours, more than 3000: narrow it or use a coarser resolution" } };
    expect(await json(`/v3/${domain}/stats/total?event=opened&${range}`)).toEqual(refusal);
    expect(await json(`/v3/stats/total?event=opened&${range}`)).toEqual(refusal);
    expect(await json(`/v3/${domain}/tags/promo/stats?event=opened&${range}`)).toEqual(refusal);
    const metrics = await api("/v1/analytics/metrics", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ start: "Fri, 01 Jan 0100 00:00:00 +0000", end: "Sat, 01 Jan 6000 00:00:00 +0000", resolution: "hour", metrics: ["opened_count"] }),
    });
    expect({ status: metrics.status, body: await metrics.json() }).toEqual(refusal);
  });
});

describe("GET /v3/stats/total", () => {
  it("sums every domain", async () => {
    const a = await seeded("acc");
    await seeded("acc");
    const { body } = await json(`/v3/stats/total?event=opened&duration=1d`);
    const domainOnly = await json(`/v3/${a}/stats/total?event=opened&duration=1d`);
    const sum = (stats: any[]) => stats.reduce((n, item) => n + item.opened.total, 0);
    expect(sum(body.stats)).toBeGreaterThanOrEqual(2 * sum(domainOnly.body.stats));
    expect(sum(domainOnly.body.stats)).toBe(3);
  });
});

describe("tag stats and aggregates", () => {
  it("answers a tag's stats with its description, by path and by query", async () => {
    const domain = await seeded("tst");
    await api(`/v3/${domain}/tags/promo`, { method: "PUT", body: new URLSearchParams({ description: "Promotions" }) });
    const byPath = await json(`/v3/${domain}/tags/PROMO/stats?event=opened&event=accepted&duration=3d`);
    expect(byPath.status).toBe(200);
    expect(byPath.body).toMatchObject({ tag: "promo", description: "Promotions", resolution: "day" });
    expect(byPath.body.stats.at(-1).opened).toEqual({ total: 3, unique: 1 });
    expect(byPath.body.stats[1].accepted.total).toBe(1);
    const byQuery = await json(`/v3/${domain}/tag/stats?tag=promo&event=opened&duration=3d`);
    expect(byQuery.body.stats).toEqual(byPath.body.stats.map(({ accepted: _, ...rest }: any) => rest));
  });

  it("answers countries, providers and devices aggregates", async () => {
    const domain = await seeded("agg");
    const countries = await json(`/v3/${domain}/tags/promo/stats/aggregates/countries`);
    expect(countries.body).toEqual({
      tag: "promo",
      country: {
        nl: { clicked: 1, complained: 0, opened: 2, unique_clicked: 1, unique_opened: 1, unsubscribed: 0 },
        us: { clicked: 0, complained: 0, opened: 1, unique_clicked: 0, unique_opened: 0, unsubscribed: 0 },
      },
    });
    const providers = await json(`/v3/${domain}/tags/promo/stats/aggregates/providers`);
    expect(providers.body.provider["example.org"]).toEqual({
      accepted: 1,
      delivered: 1,
      clicked: 1,
      complained: 0,
      opened: 3,
      unique_clicked: 1,
      unique_opened: 1,
      unsubscribed: 0,
    });
    const devices = await json(`/v3/${domain}/tag/stats/aggregates?tag=promo&type=device`);
    expect(devices.body.device).toEqual({
      desktop: { clicked: 1, complained: 0, opened: 2, unique_clicked: 1, unique_opened: 1, unsubscribed: 0 },
      unknown: { clicked: 0, complained: 0, opened: 1, unique_clicked: 0, unique_opened: 0, unsubscribed: 0 },
    });
    expect((await json(`/v3/${domain}/tags/promo/stats/aggregates/planets`)).status).toBe(400);
  });
});
