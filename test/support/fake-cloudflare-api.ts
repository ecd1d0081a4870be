// The fake Cloudflare API's settings and control calls, for tests inside workerd (the server
// itself, test/support/fake-cloudflare.ts, runs in Node).
import { env } from "cloudflare:test";
import { inject } from "vitest";
import type { Env } from "../../src/env";
import { FAKE_CLOUDFLARE, type FakeFault, type RecordedRequest } from "./fake-cloudflare-shapes";

export { FAKE_CLOUDFLARE, type FakeFault, type RecordedRequest };

const control = () => `http://127.0.0.1:${inject("cloudflareApiPort")}/__fake`;

/** The API base the Worker is pointed at, and the path of the zone's custom hostnames under it. */
export const fakeApiBase = () => `http://127.0.0.1:${inject("cloudflareApiPort")}/client/v4`;
export const HOSTNAMES_PATH = `/client/v4/zones/${FAKE_CLOUDFLARE.zoneId}/custom_hostnames`;

/** The test env with Cloudflare for SaaS configured against the fake. */
export function cloudflareEnv(): Env {
  return {
    ...(env as unknown as Env),
    CLOUDFLARE_ZONE_ID: FAKE_CLOUDFLARE.zoneId,
    CLOUDFLARE_API_TOKEN: FAKE_CLOUDFLARE.token,
    CLOUDFLARE_API_BASE: fakeApiBase(),
  };
}

export async function fakeRequests(hostname: string): Promise<RecordedRequest[]> {
  return (await fetch(`${control()}/requests?hostname=${encodeURIComponent(hostname)}`)).json();
}

export async function setFakeState(hostname: string, state: "active" | "timed_out" | "expired" | "pending"): Promise<void> {
  const response = await fetch(`${control()}/hostnames/${encodeURIComponent(hostname)}`, { method: "POST", body: JSON.stringify({ state }) });
  if (!response.ok) throw new Error(`fake: ${response.status} ${await response.text()}`);
}

export async function addFakeFault(fault: FakeFault): Promise<void> {
  await fetch(`${control()}/faults`, { method: "POST", body: JSON.stringify(fault) });
}
