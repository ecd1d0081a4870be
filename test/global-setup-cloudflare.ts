/// <reference types="node" />
// Vitest globalSetup (Node): starts the fake Cloudflare custom hostnames API that the HTTPS
// tracking-host tests point CLOUDFLARE_API_BASE at, and hands its port over with provide().
import type { TestProject } from "vitest/node";
import { startFakeCloudflare } from "./support/fake-cloudflare";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fake = await startFakeCloudflare();
  project.provide("cloudflareApiPort", fake.port);
  return () => fake.close();
}
