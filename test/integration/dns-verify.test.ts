// PUT /v4/domains/{d}/verify: the tracking CNAME looked up over DNS-over-HTTPS (the fake resolver
// in test/support/fake-dns.ts), stored, and shown in the domain's sending_dns_records until the
// prefix or the CNAME target changes; resolver failures answer the records as last known, with why.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getDnsCheck } from "../../src/db/dns-checks";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { newSessionCookieValue } from "../../src/panel/session";
import { API_KEY, apiWith, form, uniqueDomain } from "../helpers";
import { dnsEnv, dnsLookups, setDnsAnswer } from "../support/fake-dns-api";

const call = apiWith;
const json = async (response: Response) => (await response.json()) as any;
const verify = (callEnv: Env, domain: string) => call(callEnv, `/v4/domains/${domain}/verify`, { method: "PUT" });
const cnameOf = async (callEnv: Env, domain: string) => (await json(await call(callEnv, `/v4/domains/${domain}`))).sending_dns_records[0];

const MINUTE = 60_000;

async function runCron(callEnv: Env, scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "*/5 * * * *" }), callEnv, ctx);
  await waitOnExecutionContext(ctx);
}

async function newDomain(callEnv: Env): Promise<string> {
  const name = uniqueDomain("dns");
  expect((await call(callEnv, "/v4/domains", { method: "POST", body: form({ name }) })).status).toBe(200);
  return name;
}

describe("DNS check of the tracking CNAME", () => {
  it("finds a CNAME pointing at the deployment valid, asks the resolver in its JSON form, and remembers the answer", async () => {
    const dns = dnsEnv();
    const domain = await newDomain(dns);
    const host = `email.${domain}`;
    expect(await cnameOf(dns, domain)).toMatchObject({ valid: "unknown", cached: [] });

    await setDnsAnswer(host, { cname: "Track.Tidings.Test." });
    const response = await verify(dns, domain);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.message).toBe("Domain DNS records have been updated");
    expect(body.domain.name).toBe(domain);
    expect(body.sending_dns_records).toEqual([
      { record_type: "CNAME", name: host, value: "track.tidings.test", valid: "valid", is_active: true, cached: ["track.tidings.test"] },
    ]);
    expect(await dnsLookups(host)).toEqual([{ query: { name: host, type: "CNAME" }, accept: "application/dns-json" }]);
    // Remembered: a plain GET shows it without asking the resolver again.
    expect(await cnameOf(dns, domain)).toMatchObject({ valid: "valid", cached: ["track.tidings.test"] });
    expect(await dnsLookups(host)).toHaveLength(1);
  });

  it("finds a CNAME pointing elsewhere, or no record at all, invalid", async () => {
    const dns = dnsEnv();
    const domain = await newDomain(dns);
    const host = `email.${domain}`;
    await setDnsAnswer(host, { cname: "mailgun.org." });
    expect((await json(await verify(dns, domain))).sending_dns_records[0]).toMatchObject({ valid: "invalid", cached: ["mailgun.org"] });
    await setDnsAnswer(host, { rcode: 3 }); // NXDOMAIN
    expect((await json(await verify(dns, domain))).sending_dns_records[0]).toMatchObject({ valid: "invalid", cached: [] });
    await setDnsAnswer(host, {}); // the name exists, with no CNAME
    expect((await json(await verify(dns, domain))).sending_dns_records[0]).toMatchObject({ valid: "invalid", cached: [] });
  });

  it("answers the records as last known, and why, when the resolver fails, times out or is off", async () => {
    const dns = dnsEnv();
    const domain = await newDomain(dns);
    const host = `email.${domain}`;
    await setDnsAnswer(host, { cname: "track.tidings.test." });
    await verify(dns, domain);

    const failures: Array<[Parameters<typeof setDnsAnswer>[1] | null, Env, RegExp]> = [
      [{ rcode: 2 }, dns, /answered SERVFAIL/],
      [{ httpStatus: 503 }, dns, /answered HTTP 503/],
      [{ body: "<html>not json</html>" }, dns, /not DNS JSON/],
      [null, dnsEnv({ DNS_RESOLVER_URL: "" }), /DNS checks are off/],
      [null, dnsEnv({ DNS_RESOLVER_URL: "http://127.0.0.1:9/dns-query" }), /could not be reached/],
    ];
    for (const [answer, callEnv, why] of failures) {
      if (answer) await setDnsAnswer(host, answer);
      const response = await verify(callEnv, domain);
      expect(response.status).toBe(200);
      const body = await json(response);
      expect(body.message).toMatch(/^The DNS records could not be checked: /);
      expect(body.message).toMatch(why);
      expect(body.sending_dns_records[0]).toMatchObject({ valid: "valid", cached: ["track.tidings.test"] });
    }
  });

  it("gives up on a resolver that does not answer within the timeout", { timeout: 15_000 }, async () => {
    const dns = dnsEnv();
    const domain = await newDomain(dns);
    await setDnsAnswer(`email.${domain}`, { cname: "track.tidings.test.", delayMs: 8_000 });
    // The resolver would answer after 8 s: the message says the client gave up at its 5 s timeout.
    const body = await json(await verify(dns, domain));
    expect(body.message).toMatch(/did not answer within 5 s/);
    expect(body.sending_dns_records[0]).toMatchObject({ valid: "unknown" });
    await setDnsAnswer(`email.${domain}`, { rcode: 3 }); // so the cron tests below do not wait on it
  });

  it("no longer counts a check once the prefix or the CNAME target changes, and forgets it with the domain", async () => {
    const dns = dnsEnv();
    const domain = await newDomain(dns);
    await setDnsAnswer(`email.${domain}`, { cname: "track.tidings.test." });
    await verify(dns, domain);
    expect(await cnameOf(dnsEnv({ CNAME_TARGET: "new-target.tidings.test" }), domain)).toMatchObject({ value: "new-target.tidings.test", valid: "unknown" });

    const moved = await json(await call(dns, `/v4/domains/${domain}`, { method: "PUT", body: form({ web_prefix: "links" }) }));
    expect(moved.sending_dns_records[0]).toMatchObject({ name: `links.${domain}`, valid: "unknown", cached: [] });
    await setDnsAnswer(`links.${domain}`, { cname: "track.tidings.test." });
    expect((await json(await verify(dns, domain))).sending_dns_records[0]).toMatchObject({ name: `links.${domain}`, valid: "valid" });
    // Only the current host's check is kept.
    const rows = await env.DB.prepare("SELECT host FROM dns_checks WHERE domain = ?").bind(domain).all<{ host: string }>();
    expect(rows.results.map((r) => r.host)).toEqual([`links.${domain}`]);

    expect((await call(dns, `/v3/domains/${domain}`, { method: "DELETE" })).status).toBe(200);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM dns_checks WHERE domain = ?").bind(domain).first<{ n: number }>())!.n).toBe(0);
  });

  it("has a Check DNS button on the panel's domain page that shows the outcome", async () => {
    const dns = dnsEnv();
    const domain = await newDomain(dns);
    const cookie = `tidings_session=${await newSessionCookieValue(API_KEY, Date.now())}`;
    const panel = async (path: string, init: RequestInit = {}) => {
      const ctx = createExecutionContext();
      const request = new Request(`http://127.0.0.1${path}`, { ...init, headers: { cookie }, redirect: "manual" });
      const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, dns, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    const detail = await (await panel(`/app/domains/${domain}`)).text();
    expect(detail).toContain(`action="/app/domains/${domain}/verify"`);
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(detail)![1]!;

    await setDnsAnswer(`email.${domain}`, { cname: "elsewhere.example.net." });
    const checked = await panel(`/app/domains/${domain}/verify`, { method: "POST", body: form({ _csrf }) });
    expect(checked.status).toBe(303);
    const outcome = (response: Response, key: string) => new URL(response.headers.get("location")!, "http://127.0.0.1").searchParams.get(key);
    expect(outcome(checked, "notice")).toBe("DNS checked: the tracking CNAME is invalid.");
    expect(await (await panel(`/app/domains/${domain}`)).text()).toContain("invalid (points at <code>elsewhere.example.net</code>)");

    await setDnsAnswer(`email.${domain}`, { rcode: 2 });
    const failed = await panel(`/app/domains/${domain}/verify`, { method: "POST", body: form({ _csrf }) });
    expect(outcome(failed, "error")).toBe(
      "The DNS records could not be checked just now: the DNS resolver answered SERVFAIL. Tidings tries again by itself; the records below are as last checked.",
    );
    // Without the session's CSRF token nothing is checked.
    expect((await panel(`/app/domains/${domain}/verify`, { method: "POST", body: form({}) })).status).toBe(403);
  });

  it("answers 404 for an unknown domain", async () => {
    const response = await verify(dnsEnv(), "nobody-here.example.com");
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({ message: "Domain not found" });
  });
});

describe("DNS checks by the cron", () => {
  it("looks a new domain up at the next run, a wrong CNAME again with backoff, a right one daily, and keeps the answer through a failure", async () => {
    const dns = dnsEnv();
    const domain = await newDomain(dns);
    const host = `email.${domain}`;
    const created = (await getDnsCheck(env.DB, host))!;
    expect(created).toMatchObject({ valid: "unknown", attempts: 0, checkedAt: 0 });
    const t0 = created.nextCheckAt;
    // Test files share one workerd and its storage: other files' domains may be due too, and a run
    // checks at most 50. Put theirs out of this test's reach, so "the next run" is about this one.
    await env.DB.prepare("UPDATE dns_checks SET next_check_at = ?1 WHERE host != ?2").bind(Number.MAX_SAFE_INTEGER, host).run();

    await setDnsAnswer(host, { cname: "elsewhere.example.net." });
    await runCron(dns, t0);
    expect(await getDnsCheck(env.DB, host)).toMatchObject({
      valid: "invalid",
      cached: ["elsewhere.example.net"],
      attempts: 1,
      nextCheckAt: t0 + 5 * MINUTE,
      checkedAt: t0,
    });
    await runCron(dns, t0 + 4 * MINUTE); // not due yet
    expect(await dnsLookups(host)).toHaveLength(1);
    await runCron(dns, t0 + 5 * MINUTE);
    expect(await getDnsCheck(env.DB, host)).toMatchObject({ valid: "invalid", attempts: 2, nextCheckAt: t0 + 15 * MINUTE });
    expect(await dnsLookups(host)).toHaveLength(2);

    await setDnsAnswer(host, { cname: "track.tidings.test." });
    await runCron(dns, t0 + 15 * MINUTE);
    expect(await getDnsCheck(env.DB, host)).toMatchObject({ valid: "valid", attempts: 0, error: "", nextCheckAt: t0 + 15 * MINUTE + 24 * 60 * MINUTE });
    expect(await cnameOf(dns, domain)).toMatchObject({ valid: "valid", cached: ["track.tidings.test"] });

    await setDnsAnswer(host, { rcode: 2 });
    const day = t0 + 15 * MINUTE + 24 * 60 * MINUTE;
    await runCron(dns, day);
    expect(await getDnsCheck(env.DB, host)).toMatchObject({
      valid: "valid",
      error: "the DNS resolver answered SERVFAIL",
      attempts: 1,
      nextCheckAt: day + 5 * MINUTE,
    });
    expect(await cnameOf(dns, domain)).toMatchObject({ valid: "valid" });
    expect(await dnsLookups(host)).toHaveLength(4);
  });

  it("backs off to at most every 6 hours, and looks nothing up while DNS_RESOLVER_URL is empty", async () => {
    const { retryDelayMs } = await import("../../src/dns/tracking-cname");
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => retryDelayMs(n) / MINUTE)).toEqual([5, 10, 20, 40, 80, 160, 320, 360, 360]);

    const off = dnsEnv({ DNS_RESOLVER_URL: "" });
    const domain = await newDomain(off);
    const host = `email.${domain}`;
    const before = (await getDnsCheck(env.DB, host))!;
    await runCron(off, before.nextCheckAt + MINUTE);
    expect(await getDnsCheck(env.DB, host)).toEqual(before);
    expect(await dnsLookups(host)).toEqual([]);
  });
});
