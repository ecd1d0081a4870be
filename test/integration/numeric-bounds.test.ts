// Every numeric parameter of the API is a whole number in decimal digits within its bounds, or a
// 400 in Mailgun's shape: 1e20, 2^63-1, hex and fractions never reach a query (issue 11, item 7).
import { describe, expect, it } from "vitest";
import { api, createDomain, form, uniqueDomain } from "../helpers";

const HUGE = ["1e20", "9223372036854775807", "18446744073709551616", "1e308", "Infinity"];
const NOT_DECIMAL = ["0x10", "1e2", "2.0", "-1", " 5", "5 ", "+5", ""];

const call = async (path: string, init: RequestInit = {}) => {
  const response = await api(path, init);
  return { status: response.status, body: (await response.json()) as { message?: string } };
};
const postJson = (path: string, body: unknown) => call(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function newDomain(): Promise<string> {
  const domain = uniqueDomain("num");
  await createDomain(domain);
  return domain;
}

describe("numeric query parameters", () => {
  it("GET /v4/domains: skip and limit within bounds", async () => {
    for (const skip of HUGE)
      expect(await call(`/v4/domains?skip=${skip}`), skip).toEqual({ status: 400, body: { message: "'skip' must be an integer from 0 to 1000000" } });
    for (const limit of [...HUGE, ...NOT_DECIMAL.filter(Boolean), "0", "1001"]) {
      expect(await call(`/v4/domains?limit=${encodeURIComponent(limit)}`), limit).toEqual({
        status: 400,
        body: { message: "'limit' must be an integer from 1 to 1000" },
      });
    }
    expect((await call("/v4/domains?skip=1000000&limit=1000")).status).toBe(200);
    // An empty value is the default, as an absent one.
    expect((await call("/v4/domains?skip=&limit=")).status).toBe(200);
  });

  it("the Events API's limit", async () => {
    const d = await newDomain();
    for (const limit of [...HUGE, "0x10", "1e2", "2.0", "301", "0"]) {
      expect(await call(`/v3/${d}/events?limit=${limit}`), limit).toEqual({ status: 400, body: { message: "'limit' must be an integer from 1 to 300" } });
    }
    expect((await call(`/v3/${d}/events?limit=300`)).status).toBe(200);
  });

  it("the tags, suppression and dead-letter lists' limit", async () => {
    const d = await newDomain();
    for (const limit of [...HUGE, "0x10", "1e2", "2.0"]) {
      expect(await call(`/v3/${d}/tags?limit=${limit}`), limit).toEqual({ status: 400, body: { message: "'limit' must be an integer from 1 to 1000" } });
      expect(await call(`/v3/${d}/bounces?limit=${limit}`), limit).toEqual({ status: 400, body: { message: "'limit' must be an integer from 1 to 1000" } });
      const dead = await call(`/v3/domains/${d}/webhooks/dead-letters?limit=${limit}`);
      expect(dead, limit).toMatchObject({ status: 400, body: { message: "'limit' must be an integer from 1 to 1000" } });
    }
  });

  it("pagination.skip in the JSON bodies of /v1/analytics", async () => {
    // zod's int() already refuses numbers past 2^53; the bound refuses the safe ones beyond a list's end.
    for (const skip of [1e20, 2 ** 63, Number.MAX_SAFE_INTEGER, 1_000_001]) {
      for (const path of ["/v1/analytics/tags", "/v1/analytics/metrics"]) {
        const answer = await postJson(path, { metrics: ["accepted_count"], pagination: { skip } });
        expect(answer.status, `${path} ${skip}`).toBe(400);
        expect(answer.body.message, `${path} ${skip}`).toMatch(/^pagination\.skip: /);
      }
    }
    expect((await postJson("/v1/analytics/metrics", { metrics: ["accepted_count"], pagination: { skip: 1_000_001 } })).body).toEqual({
      message: "pagination.skip: Too big: expected number to be <=1000000",
    });
    expect((await postJson("/v1/analytics/tags", { pagination: { skip: 1000000 } })).status).toBe(200);
  });

  it("a size filter's number", async () => {
    const d = await newDomain();
    const huge = `>${"9".repeat(400)}`;
    expect(await call(`/v3/${d}/events?size=${encodeURIComponent(huge)}`)).toEqual({
      status: 400,
      body: { message: "Invalid filter expression: size: the number is too large" },
    });
    expect((await call(`/v3/${d}/events?size=${"9".repeat(400)}`)).status).toBe(400);
    expect((await call(`/v3/${d}/events?size=${encodeURIComponent(">1000")}`)).status).toBe(200);
  });

  it("numbers in form fields: a bounce's code and a domain's retention_days", async () => {
    const d = await newDomain();
    for (const code of ["0x1F4", "5e2", "550.0", "1e20"]) {
      expect(await call(`/v3/${d}/bounces`, { method: "POST", body: form({ address: "x@example.org", code }) }), code).toEqual({
        status: 400,
        body: { message: `'code' must be an SMTP code, got '${code}'` },
      });
    }
    for (const days of ["3e1", "0x10", "1e20"]) {
      expect(await call(`/v4/domains/${d}`, { method: "PUT", body: form({ retention_days: days }) }), days).toEqual({
        status: 400,
        body: { message: "retention_days must be a whole number of days from 2 to 30" },
      });
    }
  });
});
