// HTTPS tracking hosts end to end through the Worker (fetch and scheduled handlers), with the
// Cloudflare API played by the fake in test/support/fake-cloudflare.ts: switch a domain to https,
// the x509 API, the cron step, https links, HSTS and the http -> https redirect, failures stored
// and retried, and a deleted domain's hostname retired.
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CustomHostnames } from "../../src/certificates/cloudflare";
import { readCertificate, requestCertificate } from "../../src/certificates/tracking-hosts";
import { checkCertificates } from "../../src/cron/certificates";
import { getCertificate } from "../../src/db/certificates";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { API_KEY, apiWith, everyPartition, form, linksIn, uniqueDomain } from "../helpers";
import { addFakeFault, cloudflareEnv, FAKE_CLOUDFLARE, fakeRequests, HOSTNAMES_PATH, setFakeState } from "../support/fake-cloudflare-api";

const MINUTE = 60_000;

const call = apiWith;
const json = async (response: Response) => (await response.json()) as any;

async function runCron(cfEnv: Env, scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "*/5 * * * *" }), cfEnv, ctx);
  await waitOnExecutionContext(ctx);
}

async function newDomain(cfEnv: Env, prefix: string): Promise<string> {
  const name = uniqueDomain(prefix);
  expect((await call(cfEnv, "/v4/domains", { method: "POST", body: form({ name }) })).status).toBe(200);
  for (const kind of ["open", "click", "unsubscribe"])
    await call(cfEnv, `/v3/domains/${name}/tracking/${kind}`, { method: "PUT", body: form({ active: "yes" }) });
  return name;
}

async function prepareLinks(cfEnv: Env, domain: string) {
  const response = await call(cfEnv, "/v1/tracking/prepare", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      domain,
      message_id: `m${Date.now()}@${domain}`,
      recipient: "reader@example.org",
      html: '<p><a href="https://example.org/go">go</a></p>',
      text: "hi",
    }),
  });
  expect(response.status).toBe(200);
  const body = await json(response);
  return { ...linksIn(body.html), listUnsubscribe: body.headers["List-Unsubscribe"] as string };
}

/** The hot path with D1 and the Durable Object throwing, and a queue that records what it gets. */
async function hit(url: string, init: RequestInit = {}) {
  const sent: any[] = [];
  const explode = new Proxy(
    {},
    {
      get: (_t, p) => {
        throw new Error(`storage touched on the hot path: ${String(p)}`);
      },
    },
  );
  const hotEnv = {
    ...(env as unknown as Env),
    DB: explode as D1Database,
    DOMAIN_STATE: explode as Env["DOMAIN_STATE"],
    ...everyPartition("events", { send: async (b: unknown) => void sent.push(b) }),
  };
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(url, { redirect: "manual", ...init }) as Request<unknown, IncomingRequestCfProperties>, hotEnv, ctx);
  await waitOnExecutionContext(ctx);
  return { response, sent };
}

describe("HTTPS tracking hosts", () => {
  it("switches a domain to https: processing, then active after the cron, then https links with HSTS and http redirected", async () => {
    const cfEnv = cloudflareEnv();
    const domain = await newDomain(cfEnv, "https");
    const host = `email.${domain}`;

    const switched = await call(cfEnv, `/v4/domains/${domain}`, { method: "PUT", body: form({ web_scheme: "https" }) });
    expect(switched.status).toBe(200);
    const switchedBody = await json(switched);
    expect(switchedBody.domain.web_scheme).toBe("https");
    // The CNAME as Cloudflare sees it, and the TXT record it asks for while validation is pending.
    expect(switchedBody.sending_dns_records).toEqual([
      { record_type: "CNAME", name: host, value: "track.tidings.test", valid: "invalid", is_active: true, cached: [] },
      {
        record_type: "TXT",
        name: `_cf-custom-hostname.${host}`,
        value: expect.stringMatching(/^[0-9a-f-]{36}$/),
        valid: "unknown",
        is_active: true,
        cached: [],
      },
    ]);

    expect(await json(await call(cfEnv, `/v2/x509/${host}/status`))).toEqual({
      status: "processing",
      error: "custom hostname does not CNAME to this zone.",
      certificate: "",
    });
    const again = await call(cfEnv, `/v2/x509/${host}`, { method: "POST" });
    expect(again.status).toBe(409);
    expect(await json(again)).toEqual({ message: `x509 key pair generation is already in progress for ${host}` });
    expect((await call(cfEnv, `/v2/x509/${host}`, { method: "PUT" })).status).toBe(409);

    // Until the certificate is active, links stay http.
    const before = await prepareLinks(cfEnv, domain);
    expect(before.click[0]).toMatch(new RegExp(`^http://${host}/c/`));

    await setFakeState(host, "active");
    await runCron(cfEnv, Date.now());
    expect(await json(await call(cfEnv, `/v2/x509/${host}/status`))).toEqual({ status: "active", error: "", certificate: "" });
    expect((await json(await call(cfEnv, `/v4/domains/${domain}`))).sending_dns_records).toEqual([
      { record_type: "CNAME", name: host, value: "track.tidings.test", valid: "valid", is_active: true, cached: [] },
    ]);

    const after = await prepareLinks(cfEnv, domain);
    for (const link of [...after.open, ...after.click, ...after.unsubscribe]) expect(link.startsWith(`https://${host}/`), link).toBe(true);
    expect(after.listUnsubscribe.startsWith(`<https://${host}/u/`)).toBe(true);

    // Over https on the domain's own host: answers carry HSTS (no includeSubDomains), hits are queued.
    const click = await hit(after.click[0]!);
    expect(click.response.status).toBe(302);
    expect(click.response.headers.get("location")).toBe("https://example.org/go");
    expect(click.response.headers.get("strict-transport-security")).toBe("max-age=15552000");
    expect(click.sent.map((m) => m.event)).toEqual(["clicked"]);
    const pixel = await hit(after.open[0]!);
    expect(pixel.response.headers.get("content-type")).toBe("image/gif");
    expect(pixel.response.headers.get("strict-transport-security")).toBe("max-age=15552000");
    const page = await hit(after.unsubscribe[0]!);
    expect(page.response.headers.get("strict-transport-security")).toBe("max-age=15552000");

    // The same links over plain http go to https, and nothing is recorded until they get there.
    const plainClick = await hit(after.click[0]!.replace("https://", "http://"));
    expect(plainClick.response.status).toBe(301);
    expect(plainClick.response.headers.get("location")).toBe(after.click[0]);
    expect(plainClick.response.headers.get("strict-transport-security")).toBeNull();
    expect(plainClick.sent).toEqual([]);
    const plainPixel = await hit(after.open[0]!.replace("https://", "http://"));
    expect([plainPixel.response.status, plainPixel.response.headers.get("location")]).toEqual([301, after.open[0]]);
    const oneClick = await hit(after.unsubscribe[0]!.replace("https://", "http://"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect([oneClick.response.status, oneClick.response.headers.get("location")]).toEqual([308, after.unsubscribe[0]]);
    expect(oneClick.sent).toEqual([]);

    // Links sent before the switch still work over http, and a shared host never gets HSTS.
    const old = await hit(before.click[0]!);
    expect([old.response.status, old.response.headers.get("location")]).toEqual([302, "https://example.org/go"]);
    const shared = await hit(after.click[0]!.replace(host, "shared.test"));
    expect(shared.response.status).toBe(302);
    expect(shared.response.headers.get("strict-transport-security")).toBeNull();

    // What Tidings sent to Cloudflare: one create (at the switch), one read (the cron).
    const requests = await fakeRequests(host);
    const id = (await getCertificate(cfEnv.DB, host))!.hostnameId;
    expect(requests.map((r) => [r.method, r.path, r.authorization])).toEqual([
      ["POST", HOSTNAMES_PATH, `Bearer ${FAKE_CLOUDFLARE.token}`],
      ["GET", `${HOSTNAMES_PATH}/${id}`, `Bearer ${FAKE_CLOUDFLARE.token}`],
    ]);
    expect(requests[0]!.body).toEqual({ hostname: host, ssl: { method: "http", type: "dv" } });
  });

  it("answers Mailgun's x509 API: 202 and the status location, 400, 404, re-issue with PUT", async () => {
    const cfEnv = cloudflareEnv();
    const domain = await newDomain(cfEnv, "x509");
    const host = `email.${domain}`;

    expect((await call(cfEnv, `/v2/x509/email.nobody.example`, { method: "POST" })).status).toBe(400);
    const wrongPrefix = await call(cfEnv, `/v2/x509/track.${domain}`, { method: "POST" });
    expect(wrongPrefix.status).toBe(400);
    expect((await json(wrongPrefix)).message).toContain("is not the tracking host");
    expect((await call(cfEnv, `/v2/x509/${host}/status`)).status).toBe(404);
    expect((await call(cfEnv, `/v2/x509/track.${domain}/status`)).status).toBe(400);

    const generated = await call(cfEnv, `/v2/x509/${host.toUpperCase()}`, { method: "POST" });
    expect(generated.status).toBe(202);
    expect(await json(generated)).toEqual({ message: "Initiated x509 key pair generation", location: `/v2/x509/${host}/status` });
    expect((await json(await call(cfEnv, `/v2/x509/${host}/status`))).status).toBe("processing");

    // The certificate alone does not change the links: web_scheme is still http.
    await setFakeState(host, "active");
    await runCron(cfEnv, Date.now());
    expect((await json(await call(cfEnv, `/v2/x509/${host}/status`))).status).toBe("active");
    expect((await prepareLinks(cfEnv, domain)).click[0]).toMatch(/^http:\/\//);
    const conflict = await call(cfEnv, `/v2/x509/${host}`, { method: "POST" });
    expect([conflict.status, (await json(conflict)).message]).toEqual([409, `${host} already has an active certificate; PUT /v2/x509/${host} re-issues it`]);

    // A re-issue that cannot reach Cloudflare leaves the certificate active (it is still served).
    await addFakeFault({ hostname: host, method: "PATCH", status: 429 });
    expect((await call(cfEnv, `/v2/x509/${host}`, { method: "PUT" })).status).toBe(202);
    expect(await json(await call(cfEnv, `/v2/x509/${host}/status`))).toEqual({
      status: "active",
      error: "Cloudflare API answered 429: Please wait and consider throttling your request speed (code 971)",
      certificate: "",
    });

    // PUT re-issues: Cloudflare's PATCH with the same ssl settings restarts validation.
    await setFakeState(host, "pending");
    const reissued = await call(cfEnv, `/v2/x509/${host}`, { method: "PUT" });
    expect(reissued.status).toBe(202);
    const last = (await fakeRequests(host)).at(-1)!;
    expect([last.method, last.body]).toEqual(["PATCH", { ssl: { method: "http", type: "dv" } }]);
    expect((await json(await call(cfEnv, `/v2/x509/${host}/status`))).status).toBe("processing");
  });

  it("stores a rate-limited create as error, keeps tracking over http, and retries with backoff until https", async () => {
    const cfEnv = cloudflareEnv();
    const domain = await newDomain(cfEnv, "limited");
    const host = `email.${domain}`;
    await addFakeFault({ hostname: host, method: "POST", status: 429, retryAfter: 60 });
    const switched = await call(cfEnv, `/v4/domains/${domain}`, { method: "PUT", body: form({ web_scheme: "https" }) });
    expect(switched.status).toBe(200);
    expect(await json(await call(cfEnv, `/v2/x509/${host}/status`))).toEqual({
      status: "error",
      error: "Cloudflare API answered 429: Please wait and consider throttling your request speed (code 971)",
      certificate: "",
    });
    const links = await prepareLinks(cfEnv, domain);
    expect(links.click[0]).toMatch(/^http:\/\//);
    expect((await hit(links.click[0]!)).response.status).toBe(302);

    const t0 = Date.now();
    await runCron(cfEnv, t0 + 1000); // within the backoff: not retried
    expect(await fakeRequests(host)).toHaveLength(1);
    await runCron(cfEnv, t0 + 5 * MINUTE + 1000); // retried
    expect((await fakeRequests(host)).map((r) => [r.method, r.path])).toEqual([
      ["POST", HOSTNAMES_PATH],
      ["POST", HOSTNAMES_PATH],
    ]);
    expect(await getCertificate(cfEnv.DB, host)).toMatchObject({ status: "processing", attempts: 0, error: "custom hostname does not CNAME to this zone." });

    await setFakeState(host, "active");
    await runCron(cfEnv, t0 + 10 * MINUTE);
    expect((await getCertificate(cfEnv.DB, host))?.status).toBe("active");
    expect((await prepareLinks(cfEnv, domain)).click[0]).toMatch(new RegExp(`^https://${host}/c/`));
  });

  it("stores timeouts as error, adopts a hostname whose create timed out, and backs off on failed certificates", async () => {
    const cfEnv = cloudflareEnv();
    const domain = await newDomain(cfEnv, "slow");
    const host = `email.${domain}`;
    const impatient = new CustomHostnames(cfEnv, 200);
    const t0 = Date.now();

    // The create reaches Cloudflare, but its answer comes too late.
    await addFakeFault({ hostname: host, method: "POST", delayMs: 1000 });
    await requestCertificate(cfEnv.DB, impatient, { host, domain, mode: "generate" }, t0);
    expect(await getCertificate(cfEnv.DB, host)).toMatchObject({
      status: "error",
      error: "Cloudflare API did not answer within 200 ms",
      hostnameId: null,
      attempts: 1,
    });
    await new Promise((r) => setTimeout(r, 1000));

    // The retry's create is refused as a duplicate (409), so it looks the hostname up and adopts it.
    await checkCertificates(cfEnv, t0 + 5 * MINUTE + 1);
    const adopted = (await getCertificate(cfEnv.DB, host))!;
    expect(adopted).toMatchObject({ status: "processing", attempts: 0, hostnameId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect((await fakeRequests(host)).map((r) => [r.method, r.query])).toEqual([
      ["POST", {}],
      ["POST", {}],
      ["GET", { hostname: host }],
    ]);

    // A read that times out is an error too; the next check succeeds.
    await addFakeFault({ hostname: host, method: "GET", delayMs: 1000 });
    await checkCertificates(cfEnv, t0 + 6 * MINUTE, impatient);
    expect(await getCertificate(cfEnv.DB, host)).toMatchObject({ status: "error", attempts: 1, nextCheckAt: t0 + 11 * MINUTE });
    await new Promise((r) => setTimeout(r, 1000));

    // Cloudflare gives up validating: error, validation restarted, and the waits double.
    await setFakeState(host, "timed_out");
    await checkCertificates(cfEnv, t0 + 11 * MINUTE);
    const methods = (await fakeRequests(host)).map((r) => r.method);
    expect(methods.slice(-2)).toEqual(["GET", "PATCH"]);
    expect(await getCertificate(cfEnv.DB, host)).toMatchObject({ status: "processing", attempts: 0 });
    await setFakeState(host, "expired");
    await addFakeFault({ hostname: host, method: "PATCH", status: 500 });
    await checkCertificates(cfEnv, t0 + 13 * MINUTE);
    expect(await getCertificate(cfEnv.DB, host)).toMatchObject({ status: "error", attempts: 1, nextCheckAt: t0 + 18 * MINUTE });
    await addFakeFault({ hostname: host, method: "PATCH", status: 500 });
    await checkCertificates(cfEnv, t0 + 18 * MINUTE);
    expect(await getCertificate(cfEnv.DB, host)).toMatchObject({ status: "error", attempts: 2, nextCheckAt: t0 + 28 * MINUTE });
  });

  it("reads a pending status through from Cloudflare at most every 10 s; PUT starts a certificate that was never asked for", async () => {
    const cfEnv = cloudflareEnv();
    const domain = await newDomain(cfEnv, "read");
    const host = `email.${domain}`;
    expect((await call(cfEnv, `/v2/x509/${host}`, { method: "PUT" })).status).toBe(202);
    const stored = (await getCertificate(cfEnv.DB, host))!;
    await setFakeState(host, "active");
    const cloudflare = new CustomHostnames(cfEnv);
    expect((await readCertificate(cfEnv.DB, cloudflare, stored, stored.checkedAt + 9_000)).status).toBe("processing");
    expect((await fakeRequests(host)).map((r) => r.method)).toEqual(["POST"]);
    expect((await readCertificate(cfEnv.DB, cloudflare, stored, stored.checkedAt + 10_000)).status).toBe("active");
    expect((await fakeRequests(host)).map((r) => r.method)).toEqual(["POST", "GET"]);
  });

  it("retires a deleted domain's hostname even when its create never answered", async () => {
    const cfEnv = cloudflareEnv();
    const domain = await newDomain(cfEnv, "orphan");
    const host = `email.${domain}`;
    await addFakeFault({ hostname: host, method: "POST", delayMs: 1000 });
    await requestCertificate(cfEnv.DB, new CustomHostnames(cfEnv, 200), { host, domain, mode: "generate" }, Date.now());
    expect((await getCertificate(cfEnv.DB, host))?.hostnameId).toBeNull();
    await new Promise((r) => setTimeout(r, 1000));
    await call(cfEnv, `/v3/domains/${domain}`, { method: "DELETE" });
    await checkCertificates(cfEnv, Date.now());
    expect(await getCertificate(cfEnv.DB, host)).toBeNull();
    expect((await fakeRequests(host)).map((r) => [r.method, r.query])).toEqual([
      ["POST", {}],
      ["GET", { hostname: host }],
      ["DELETE", {}],
    ]);
  });

  it("retires the hostname of a deleted domain at the next cron run", async () => {
    const cfEnv = cloudflareEnv();
    const domain = await newDomain(cfEnv, "gone");
    const host = `email.${domain}`;
    await call(cfEnv, `/v4/domains/${domain}`, { method: "PUT", body: form({ web_scheme: "https" }) });
    const id = (await getCertificate(cfEnv.DB, host))!.hostnameId;
    await setFakeState(host, "active");
    await runCron(cfEnv, Date.now());
    expect((await getCertificate(cfEnv.DB, host))?.status).toBe("active");

    expect((await call(cfEnv, `/v3/domains/${domain}`, { method: "DELETE" })).status).toBe(200);
    await runCron(cfEnv, Date.now());
    expect(await getCertificate(cfEnv.DB, host)).toBeNull();
    const last = (await fakeRequests(host)).at(-1)!;
    expect([last.method, last.path]).toEqual(["DELETE", `${HOSTNAMES_PATH}/${id}`]);
  });

  it("without Cloudflare settings, an https domain keeps http links and its status says why", async () => {
    const domain = uniqueDomain("unset");
    const auth = { authorization: `Basic ${btoa(`api:${API_KEY}`)}` };
    await SELF.fetch("http://127.0.0.1/v4/domains", { method: "POST", headers: auth, body: form({ name: domain, web_scheme: "https" }) });
    const status = await (await SELF.fetch(`http://127.0.0.1/v2/x509/email.${domain}/status`, { headers: auth })).json<any>();
    expect(status.status).toBe("error");
    expect(status.error).toContain("not configured");
  });
});
