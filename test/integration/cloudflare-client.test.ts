// The Cloudflare custom hostnames client against the fake Cloudflare API (test/support/fake-cloudflare.ts):
// every request it sends (method, path, auth header, body), the states it reads, and how failures
// (HTTP errors, rate limits, timeouts, a wrong token, no configuration) surface.
import { describe, expect, it } from "vitest";
import { CloudflareError, CustomHostnames } from "../../src/certificates/cloudflare";
import { certificateState } from "../../src/domain/custom-hostname";
import { uniqueDomain } from "../helpers";
import { addFakeFault, cloudflareEnv, FAKE_CLOUDFLARE, fakeRequests, HOSTNAMES_PATH, setFakeState } from "../support/fake-cloudflare-api";

const AUTH = `Bearer ${FAKE_CLOUDFLARE.token}`;

describe("Cloudflare custom hostnames client", () => {
  it("creates, reads, finds, re-validates and deletes, sending exactly Cloudflare's requests", async () => {
    const host = `email.${uniqueDomain("cfc")}`;
    const client = new CustomHostnames(cloudflareEnv());

    const created = await client.create(host);
    expect(created.hostname).toBe(host);
    expect(certificateState(created)).toMatchObject({
      status: "processing",
      hostnameStatus: "pending",
      sslStatus: "pending_validation",
      cname: "invalid",
      dnsRecords: [{ type: "TXT", name: `_cf-custom-hostname.${host}`, value: expect.any(String) }],
    });
    expect((await client.get(created.id)).id).toBe(created.id);
    expect((await client.find(host))?.id).toBe(created.id);
    expect(await client.find(`nope.${host}`)).toBeNull();

    await setFakeState(host, "active");
    const active = certificateState(await client.get(created.id));
    expect(active).toMatchObject({ status: "active", cname: "valid", dnsRecords: [], error: "" });
    expect(active.expiresAt).toBeGreaterThan(Date.now());

    await setFakeState(host, "timed_out");
    const failed = certificateState(await client.get(created.id));
    expect(failed.status).toBe("error");
    expect(failed.error).toContain("could not be validated");
    expect(certificateState(await client.revalidate(created.id)).status).toBe("processing");

    await client.delete(created.id);
    await client.delete(created.id); // already gone: not an error
    await expect(client.get(created.id)).rejects.toMatchObject({ status: 404, message: expect.stringContaining("The custom hostname was not found") });

    const requests = await fakeRequests(host);
    expect(requests.map((r) => [r.method, r.path, r.query])).toEqual([
      ["POST", HOSTNAMES_PATH, {}],
      ["GET", `${HOSTNAMES_PATH}/${created.id}`, {}],
      ["GET", HOSTNAMES_PATH, { hostname: host }],
      ["GET", `${HOSTNAMES_PATH}/${created.id}`, {}],
      ["GET", `${HOSTNAMES_PATH}/${created.id}`, {}],
      ["PATCH", `${HOSTNAMES_PATH}/${created.id}`, {}],
      ["DELETE", `${HOSTNAMES_PATH}/${created.id}`, {}],
      ["DELETE", `${HOSTNAMES_PATH}/${created.id}`, {}],
      ["GET", `${HOSTNAMES_PATH}/${created.id}`, {}],
    ]);
    for (const r of requests) expect(r.authorization).toBe(AUTH);
    // A DV certificate validated over HTTP: the CNAME points at the zone, so Cloudflare answers the challenge.
    expect(requests[0]).toMatchObject({ contentType: "application/json", body: { hostname: host, ssl: { method: "http", type: "dv" } } });
    expect(requests[5]).toMatchObject({ contentType: "application/json", body: { ssl: { method: "http", type: "dv" } } });
    for (const r of [requests[1], requests[2], requests[6]]) expect(r!.body).toBeNull();
  });

  it("turns rate limits, server errors, duplicates and a wrong token into CloudflareErrors with Cloudflare's message", async () => {
    const host = `email.${uniqueDomain("cferr")}`;
    const client = new CustomHostnames(cloudflareEnv());
    await addFakeFault({ hostname: host, method: "POST", status: 429, retryAfter: 120 });
    const limited = await client.create(host).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(CloudflareError);
    expect(limited).toMatchObject({
      status: 429,
      retryAfterSeconds: 120,
      message: "Cloudflare API answered 429: Please wait and consider throttling your request speed (code 971)",
    });

    await addFakeFault({ hostname: host, method: "POST", status: 503 });
    await expect(client.create(host)).rejects.toMatchObject({ status: 503 });

    await client.create(host);
    await expect(client.create(host)).rejects.toMatchObject({ status: 409, message: expect.stringContaining("Duplicate custom hostname found. (code 1406)") });

    const wrongToken = new CustomHostnames({ ...cloudflareEnv(), CLOUDFLARE_API_TOKEN: "wrong" });
    await expect(wrongToken.find(host)).rejects.toMatchObject({ status: 403, message: expect.stringContaining("Authentication error") });
    expect((await fakeRequests(host)).at(-1)?.authorization).toBe("Bearer wrong");
  });

  it("gives up on a slow answer after its timeout, and refuses to run unconfigured", async () => {
    const host = `email.${uniqueDomain("cfslow")}`;
    await addFakeFault({ hostname: host, method: "POST", delayMs: 1500 });
    // The fake answers after 1.5 s: the error says the client gave up at its 200 ms timeout.
    const error = await new CustomHostnames(cloudflareEnv(), 200).create(host).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, message: "Cloudflare API did not answer within 200 ms" });

    const unconfigured = new CustomHostnames({ ...cloudflareEnv(), CLOUDFLARE_ZONE_ID: "" });
    await expect(unconfigured.create(`email.${uniqueDomain("cfnone")}`)).rejects.toMatchObject({
      status: 0,
      message: expect.stringContaining("not configured"),
    });
  });
});
