/// <reference types="node" />
// Vitest globalSetup (Node): starts the fake Cloudflare custom hostnames API that the HTTPS
// tracking-host tests point CLOUDFLARE_API_BASE at, and the fake DNS-over-HTTPS resolver the DNS
// check tests point DNS_RESOLVER_URL at, and hands their ports over with provide().
import type { TestProject } from "vitest/node";
import { startFakeCloudflare } from "./support/fake-cloudflare";
import { startFakeDns } from "./support/fake-dns";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [fake, dns] = await Promise.all([startFakeCloudflare(), startFakeDns()]);
  project.provide("cloudflareApiPort", fake.port);
  project.provide("dnsResolverPort", dns.port);
  return async () => {
    await Promise.all([fake.close(), dns.close()]);
  };
}
