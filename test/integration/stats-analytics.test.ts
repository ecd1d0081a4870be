// POST /v1/analytics/metrics (from the rollups) and POST /v1/analytics/logs (the Events API's
// query engine) in Mailgun's shapes.
import { describe, expect, it } from "vitest";
import { rollUpStats } from "../../src/cron/rollups";
import { api, createDomain, uniqueDomain } from "../helpers";
import { APPLE_PROXY_UA, seedEvents, testEnv } from "../support/stats-seed";

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const post = async (path: string, body: unknown) => {
  const response = await api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
};
const rfc = (ms: number) => new Date(ms).toUTCString();

async function seeded(): Promise<string> {
  const domain = uniqueDomain("an");
  await createDomain(domain);
  await seedEvents(domain, [
    { event: "accepted", ms: today - DAY + 1000, tags: ["t1"] },
    { event: "accepted", ms: today - DAY + 1000, tags: ["t2"], recipient: "ann@example.org" },
    { event: "delivered", ms: today - DAY + 2000, tags: ["t1"] },
    { event: "delivered", ms: today - DAY + 2000, tags: ["t2"], recipient: "ann@example.org" },
    { event: "opened", ms: today + 1000, tags: ["t1"], country: "DE" },
    { event: "opened", ms: today + 2000, tags: ["t1"], userAgent: APPLE_PROXY_UA, country: "US" },
    { event: "clicked", ms: today + 3000, tags: ["t2"], recipient: "ann@example.org", country: "DE" },
  ]);
  await rollUpStats(testEnv, Date.now());
  return domain;
}

const filterDomain = (domain: string) => ({ AND: [{ attribute: "domain", comparator: "=", values: [{ label: domain, value: domain }] }] });

describe("POST /v1/analytics/metrics", () => {
  it("answers counts and rates by time with aggregates", async () => {
    const domain = await seeded();
    const { status, body } = await post("/v1/analytics/metrics", {
      start: rfc(today - DAY),
      end: rfc(today + 3600_000),
      resolution: "day",
      dimensions: ["time"],
      metrics: ["accepted_count", "delivered_count", "opened_count", "unique_opened_count", "unique_opened_rate", "clicked_rate"],
      filter: filterDomain(domain),
      include_aggregates: true,
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ resolution: "day", dimensions: ["time"], pagination: { skip: 0, limit: 1500, total: 2 } });
    expect(body.items).toEqual([
      {
        dimensions: [{ dimension: "time", value: rfc(today - DAY).replace("GMT", "+0000"), display_value: rfc(today - DAY).replace("GMT", "+0000") }],
        metrics: { accepted_count: 2, delivered_count: 2, opened_count: 0, unique_opened_count: 0, unique_opened_rate: "0.0000", clicked_rate: "0.0000" },
      },
      {
        dimensions: [{ dimension: "time", value: rfc(today).replace("GMT", "+0000"), display_value: rfc(today).replace("GMT", "+0000") }],
        metrics: { accepted_count: 0, delivered_count: 0, opened_count: 2, unique_opened_count: 1, unique_opened_rate: "0.0000", clicked_rate: "0.0000" },
      },
    ]);
    expect(body.aggregates.metrics).toEqual({
      accepted_count: 2,
      delivered_count: 2,
      opened_count: 2,
      unique_opened_count: 1,
      unique_opened_rate: "0.5000",
      clicked_rate: "0.5000",
    });
  });

  it("splits by tag, country and bot", async () => {
    const domain = await seeded();
    const base = { start: rfc(today - DAY), end: rfc(today + 3600_000), filter: filterDomain(domain) };
    const byTag = await post("/v1/analytics/metrics", { ...base, dimensions: ["tag"], metrics: ["delivered_count", "opened_count", "clicked_count"] });
    expect(byTag.body.items.map((i: any) => [i.dimensions[0].value, i.metrics])).toEqual([
      ["t1", { delivered_count: 1, opened_count: 2, clicked_count: 0 }],
      ["t2", { delivered_count: 1, opened_count: 0, clicked_count: 1 }],
    ]);
    const byCountry = await post("/v1/analytics/metrics", { ...base, dimensions: ["country"], metrics: ["opened_count", "clicked_count"] });
    expect(byCountry.body.items.map((i: any) => [i.dimensions[0].value, i.metrics])).toEqual([
      ["de", { opened_count: 1, clicked_count: 1 }],
      ["us", { opened_count: 1, clicked_count: 0 }],
    ]);
    const byBot = await post("/v1/analytics/metrics", { ...base, dimensions: ["bot"], metrics: ["opened_count", "unique_opened_count"] });
    expect(byBot.body.items.map((i: any) => [i.dimensions[0], i.metrics])).toEqual([
      [
        { dimension: "bot", value: "", display_value: "human" },
        { opened_count: 1, unique_opened_count: 1 },
      ],
      [
        { dimension: "bot", value: "apple", display_value: "apple" },
        { opened_count: 1, unique_opened_count: 1 },
      ],
    ]);
    const humansOnly = await post("/v1/analytics/metrics", {
      ...base,
      filter: { AND: [...base.filter.AND, { attribute: "bot", comparator: "=", values: [{ label: "", value: "" }] }] },
      metrics: ["opened_count"],
    });
    expect(humansOnly.body.items).toEqual([{ dimensions: [], metrics: { opened_count: 1 } }]);
    // A per-day split by time and bot (the panel's chart of people against bots).
    const byDayAndBot = await post("/v1/analytics/metrics", { ...base, resolution: "day", dimensions: ["time", "bot"], metrics: ["opened_count"] });
    expect(byDayAndBot.status).toBe(200);
    const day = rfc(today).replace("GMT", "+0000");
    expect(byDayAndBot.body.items.map((i: any) => [i.dimensions.map((d: any) => d.display_value), i.metrics.opened_count])).toEqual([
      [[day, "human"], 1],
      [[day, "apple"], 1],
    ]);
  });

  it("refuses what it cannot answer with 400", async () => {
    for (const body of [
      { metrics: ["opened_count"], dimensions: ["ip"] },
      { metrics: ["made_up_count"] },
      { metrics: [] },
      { metrics: ["opened_count"], dimensions: ["country", "bot"] },
      { metrics: ["opened_count"], dimensions: ["device"], resolution: "hour", duration: "2h" },
      { metrics: ["opened_count"], start: "not a date" },
      { metrics: ["opened_count"], filter: { AND: [{ attribute: "tag", comparator: "contains", values: [{ label: "a", value: "a" }] }] } },
    ]) {
      const response = await post("/v1/analytics/metrics", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.message).toBeTypeOf("string");
    }
  });
});

describe("POST /v1/analytics/logs", () => {
  it("pages the Events API's events with tokens, filtered like the Events API", async () => {
    const domain = await seeded();
    const first = await post("/v1/analytics/logs", {
      start: rfc(today - 2 * DAY),
      end: "",
      events: ["accepted", "delivered"],
      filter: filterDomain(domain),
      include_totals: true,
      pagination: { sort: "timestamp:asc", limit: 3 },
    });
    expect(first.status).toBe(200);
    expect(first.body.items.map((i: any) => i.event)).toEqual(["accepted", "accepted", "delivered"]);
    const item = first.body.items[0];
    expect(item["@timestamp"]).toBe(new Date(today - DAY + 1000).toISOString());
    expect(item.domain).toEqual({ name: domain });
    expect(item.timestamp).toBeUndefined();
    expect(["bob@example.org", "ann@example.org"]).toContain(item.recipient);
    expect(first.body.pagination.total).toBe(4);
    expect(first.body.pagination.next).toMatch(/^[A-Za-z0-9_-]+$/);
    const next = await post("/v1/analytics/logs", { start: rfc(today - 2 * DAY), pagination: { token: first.body.pagination.next } });
    expect(next.body.items.map((i: any) => i.event)).toEqual(["delivered"]);

    const byRecipient = await post("/v1/analytics/logs", {
      start: rfc(today - 2 * DAY),
      filter: {
        AND: [
          ...filterDomain(domain).AND,
          { attribute: "recipient", comparator: "=", values: [{ label: "ann", value: "ANN@example.org" }] },
          { attribute: "tag", comparator: "!=", values: [{ label: "t1", value: "t1" }] },
        ],
      },
    });
    expect(byRecipient.body.items.map((i: any) => i.event)).toEqual(["clicked", "delivered", "accepted"]);
  });

  it("refuses unsupported attributes, comparators and tokens with 400", async () => {
    for (const body of [
      { start: rfc(today), filter: { AND: [{ attribute: "ip", comparator: "=", values: [{ label: "x", value: "x" }] }] } },
      { start: rfc(today), filter: { AND: [{ attribute: "recipient", comparator: "contains", values: [{ label: "x", value: "x" }] }] } },
      { start: rfc(today), events: ["unique_opened"] },
      { start: "tomorrow-ish" },
      { start: rfc(today), pagination: { token: "not-a-token" } },
      { start: rfc(today), pagination: { limit: 500 } },
    ]) {
      expect((await post("/v1/analytics/logs", body)).status, JSON.stringify(body)).toBe(400);
    }
  });
});
