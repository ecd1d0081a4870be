// mailgun.js 14 domains.verify against a running Worker whose DNS-over-HTTPS resolver is the fake
// in test/support/fake-dns.ts.
import Mailgun from "mailgun.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDns } from "../support/fake-dns";
import { type RunningWorker, startWorker } from "./start-worker";

let worker: RunningWorker;
let dns: Awaited<ReturnType<typeof startFakeDns>>;
let mg: ReturnType<InstanceType<typeof Mailgun>["client"]>;
const DOMAIN = "mgjs-dns.example.com";
const TARGET = "track.tidings-mgjs.test";

const answer = (name: string, body: object) => fetch(`http://127.0.0.1:${dns.port}/__fake/dns/${name}`, { method: "POST", body: JSON.stringify(body) });

beforeAll(async () => {
  dns = await startFakeDns();
  worker = await startWorker({ DNS_RESOLVER_URL: `http://127.0.0.1:${dns.port}/dns-query`, CNAME_TARGET: TARGET });
  mg = new Mailgun(FormData).client({ username: "api", key: worker.apiKey, url: worker.url });
});
afterAll(async () => {
  await worker?.stop();
  await dns?.close();
});

describe("mailgun.js domains.verify against Tidings", () => {
  it("checks the tracking CNAME and hands back the domain with its records", async () => {
    await mg.domains.create({ name: DOMAIN });
    await answer(`email.${DOMAIN}`, { cname: "somewhere-else.example.net." });
    const before = await mg.domains.verify(DOMAIN);
    expect(before.name).toBe(DOMAIN);
    expect(before.sending_dns_records).toEqual([
      { record_type: "CNAME", name: `email.${DOMAIN}`, value: TARGET, valid: "invalid", is_active: true, cached: ["somewhere-else.example.net"] },
    ]);

    await answer(`email.${DOMAIN}`, { cname: `${TARGET}.` });
    expect((await mg.domains.verify(DOMAIN)).sending_dns_records).toEqual([
      { record_type: "CNAME", name: `email.${DOMAIN}`, value: TARGET, valid: "valid", is_active: true, cached: [TARGET] },
    ]);
    expect((await mg.domains.get(DOMAIN)).sending_dns_records?.[0]).toMatchObject({ valid: "valid" });
    await expect(mg.domains.verify("unknown-domain.example.com")).rejects.toMatchObject({ status: 404 });
  });
});
