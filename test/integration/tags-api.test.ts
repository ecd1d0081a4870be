// The Tags APIs: the legacy per-domain one (mg.domains.domainTags) with Mailgun's query-string
// paging, and the account-level /v1/analytics/tags (mg.tags). Tags come from the rollup.
import { describe, expect, it } from "vitest";
import { rollUpStats } from "../../src/cron/rollups";
import { api, createDomain, uniqueDomain } from "../helpers";
import { seedEvents, testEnv } from "../support/stats-seed";

const NOW = Date.now();
const call = async (path: string, init: RequestInit = {}) => {
  const response = await api(path, init);
  return { status: response.status, body: (await response.json()) as any };
};
const jsonInit = (method: string, body: unknown, type = "application/json"): RequestInit => ({
  method,
  headers: { "content-type": type },
  body: JSON.stringify(body),
});

async function domainWithTags(tags: string[]): Promise<string> {
  const domain = uniqueDomain("tags");
  await createDomain(domain);
  await seedEvents(
    domain,
    tags.map((tag, i) => ({ event: "delivered" as const, ms: NOW - 10_000 + i * 1000, tags: [tag], messageId: `m${i}@x` })),
  );
  await rollUpStats(testEnv, NOW);
  return domain;
}

describe("GET /v3/{domain}/tags", () => {
  it("lists alphabetically with absolute paging URLs whose query string carries the boundary tag", async () => {
    const domain = await domainWithTags(["delta", "Alpha", "charlie", "bravo", "echo"]);
    const first = await call(`/v3/${domain}/tags?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items.map((t: any) => t.tag)).toEqual(["alpha", "bravo"]);
    expect(first.body.items[0]).toEqual({
      tag: "alpha",
      description: "",
      "first-seen": expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/),
      "last-seen": expect.any(String),
    });
    const next = new URL(first.body.paging.next);
    expect(next.origin).toBe("http://127.0.0.1");
    expect(Object.fromEntries(next.searchParams)).toEqual({ limit: "2", page: "next", tag: "bravo" });
    const second = await call(`/v3/${domain}/tags${next.search}`);
    expect(second.body.items.map((t: any) => t.tag)).toEqual(["charlie", "delta"]);
    const back = await call(`/v3/${domain}/tags${new URL(second.body.paging.previous).search}`);
    expect(back.body.items.map((t: any) => t.tag)).toEqual(["alpha", "bravo"]);
    const last = await call(`/v3/${domain}/tags${new URL(first.body.paging.last).search}`);
    expect(last.body.items.map((t: any) => t.tag)).toEqual(["delta", "echo"]);
    expect((await call(`/v3/${domain}/tags?prefix=ch`)).body.items.map((t: any) => t.tag)).toEqual(["charlie"]);
    expect((await call(`/v3/${domain}/tags?limit=0`)).status).toBe(400);
    expect((await call(`/v3/nowhere.example.com/tags`)).status).toBe(404);
  });
});

describe("one tag: get, describe, delete", () => {
  it("works by path and by ?tag=, case-insensitively, with Mailgun's messages", async () => {
    const domain = await domainWithTags(["news"]);
    expect((await call(`/v3/${domain}/tags/NEWS`)).body).toMatchObject({ tag: "news", description: "" });
    expect(await call(`/v3/${domain}/tags/news`, { method: "PUT", body: new URLSearchParams({ description: "Weekly" }) })).toEqual({
      status: 200,
      body: { message: "Tag updated" },
    });
    expect((await call(`/v3/${domain}/tag?tag=news`)).body.description).toBe("Weekly");
    expect((await call(`/v3/${domain}/tag?tag=news&description=Daily`, { method: "PUT" })).body).toEqual({ message: "Tag updated" });
    expect((await call(`/v3/${domain}/tags/news`)).body.description).toBe("Daily");
    expect(await call(`/v3/domains/${domain}/limits/tag`)).toEqual({ status: 200, body: { id: domain, limit: 20000, count: 1 } });
    expect(await call(`/v3/${domain}/tag?tag=news`, { method: "DELETE" })).toEqual({ status: 200, body: { message: "Tag deleted" } });
    expect(await call(`/v3/${domain}/tags/news`)).toEqual({ status: 404, body: { message: "tag not found" } });
    expect((await call(`/v3/${domain}/tags/news`, { method: "DELETE" })).status).toBe(404);
    expect((await call(`/v3/${domain}/tags/news`, { method: "PUT", body: new URLSearchParams({ description: "x" }) })).status).toBe(404);
    // Mailgun keeps a deleted tag's stats.
    const stats = await call(`/v3/${domain}/tags/news/stats?event=delivered&duration=1d`);
    expect(stats.body.stats.reduce((n: number, s: any) => n + s.delivered.total, 0)).toBe(1);
  });
});

describe("/v1/analytics/tags", () => {
  it("lists most recently seen first with skip/limit paging, updates, deletes, and reports limits", async () => {
    const prefix = `acct${NOW.toString(36)}`;
    await domainWithTags([`${prefix}-old`, `${prefix}-mid`, `${prefix}-new`]);
    const list = await call(
      "/v1/analytics/tags",
      jsonInit("POST", { tag: prefix, pagination: { sort: "lastseen:desc", skip: 0, limit: 2, include_total: true } }),
    );
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: any) => t.tag)).toEqual([`${prefix}-new`, `${prefix}-mid`]);
    expect(list.body.items[0]).toMatchObject({ description: "", metrics: {}, account_id: "", parent_account_id: "", account_name: "" });
    expect(new Date(list.body.items[0].first_seen).getTime()).toBe(NOW - 10_000 + 2000);
    expect(list.body.pagination).toEqual({ sort: "lastseen:desc", limit: 2, skip: 0, total: 3 });
    const rest = await call("/v1/analytics/tags", jsonInit("POST", { tag: prefix, pagination: { skip: 2, limit: 2 } }));
    expect(rest.body.items.map((t: any) => t.tag)).toEqual([`${prefix}-old`]);

    expect(await call("/v1/analytics/tags", jsonInit("PUT", { tag: `${prefix}-old`, description: "Old" }))).toEqual({
      status: 200,
      body: { message: "Tag updated" },
    });
    // mailgun.js sends DELETE's JSON body under an urlencoded content type.
    expect(await call("/v1/analytics/tags", jsonInit("DELETE", { tag: `${prefix}-mid` }, "application/x-www-form-urlencoded"))).toEqual({
      status: 200,
      body: { message: "Tag deleted" },
    });
    const after = await call("/v1/analytics/tags", jsonInit("POST", { tag: prefix }));
    expect(after.body.items.map((t: any) => [t.tag, t.description])).toEqual([
      [`${prefix}-new`, ""],
      [`${prefix}-old`, "Old"],
    ]);
    expect((await call("/v1/analytics/tags", jsonInit("DELETE", { tag: "never-seen" }))).status).toBe(404);
    expect((await call("/v1/analytics/tags", jsonInit("PUT", { description: "no tag" }))).status).toBe(400);

    const withMetrics = await call("/v1/analytics/tags", jsonInit("POST", { tag: `${prefix}-new`, include_metrics: true, pagination: { limit: 20 } }));
    expect(withMetrics.body.items[0].metrics).toEqual({
      accepted_count: 0,
      delivered_count: 1,
      failed_count: 0,
      opened_count: 0,
      unique_opened_count: 0,
      clicked_count: 0,
      unique_clicked_count: 0,
      unsubscribed_count: 0,
      complained_count: 0,
    });
    expect((await call("/v1/analytics/tags", jsonInit("POST", { include_metrics: true, pagination: { limit: 21 } }))).status).toBe(400);

    const limits = await call("/v1/analytics/tags/limits");
    expect(limits.body).toEqual({ limit: 20000, count: expect.any(Number), limit_reached: false });
    expect(limits.body.count).toBeGreaterThanOrEqual(2);
  });
});
