// mailgun.js 14 domainTracking.generate / get / regenerate (the x509 API) against a running
// Worker whose Cloudflare API is the fake in test/support/fake-cloudflare.ts.
import Mailgun from "mailgun.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCloudflare } from "../support/fake-cloudflare";
import { FAKE_CLOUDFLARE } from "../support/fake-cloudflare-shapes";
import { type RunningWorker, startWorker } from "./start-worker";

let worker: RunningWorker;
let fake: Awaited<ReturnType<typeof startFakeCloudflare>>;
let mg: ReturnType<InstanceType<typeof Mailgun>["client"]>;
const DOMAIN = "mgjs-x509.example.com";
const HOST = `email.${DOMAIN}`;

beforeAll(async () => {
  fake = await startFakeCloudflare();
  worker = await startWorker({
    CLOUDFLARE_ZONE_ID: FAKE_CLOUDFLARE.zoneId,
    CLOUDFLARE_API_TOKEN: FAKE_CLOUDFLARE.token,
    CLOUDFLARE_API_BASE: `http://127.0.0.1:${fake.port}/client/v4`,
  });
  mg = new Mailgun(FormData).client({ username: "api", key: worker.apiKey, url: worker.url });
});
afterAll(async () => {
  await worker?.stop();
  await fake?.close();
});

describe("mailgun.js domainTracking x509 calls against Tidings", () => {
  it("generates and reads a tracking host's certificate, and refuses to regenerate one still pending", async () => {
    await mg.domains.create({ name: DOMAIN });
    expect(await mg.domains.domainTracking.generate(HOST)).toEqual({
      message: "Initiated x509 key pair generation",
      location: `/v2/x509/${HOST}/status`,
      status: 202,
    });
    expect(await mg.domains.domainTracking.get(HOST)).toEqual({
      status: "processing",
      error: "custom hostname does not CNAME to this zone.",
      certificate: "",
      responseStatusCode: 200,
    });
    await expect(mg.domains.domainTracking.regenerate(HOST)).rejects.toMatchObject({ status: 409 });
    await expect(mg.domains.domainTracking.generate(`track.${DOMAIN}`)).rejects.toMatchObject({
      status: 400,
      details: expect.stringContaining("is not the tracking host"),
    });

    const requests = await (await fetch(`http://127.0.0.1:${fake.port}/__fake/requests?hostname=${HOST}`)).json();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: "POST",
      authorization: `Bearer ${FAKE_CLOUDFLARE.token}`,
      body: { hostname: HOST, ssl: { method: "http", type: "dv" } },
    });
  });
});
