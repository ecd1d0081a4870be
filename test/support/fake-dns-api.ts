// The fake DNS-over-HTTPS resolver's settings and control calls, for tests inside workerd (the
// server itself, test/support/fake-dns.ts, runs in Node).
import { env } from "cloudflare:test";
import { inject } from "vitest";
import type { Env } from "../../src/env";
import type { FakeDnsAnswer } from "./fake-dns";

const origin = () => `http://127.0.0.1:${inject("dnsResolverPort")}`;

/** The test env with DNS checks pointed at the fake resolver. */
export function dnsEnv(overrides: Partial<Env> = {}): Env {
  return { ...(env as unknown as Env), DNS_RESOLVER_URL: `${origin()}/dns-query`, ...overrides };
}

export async function setDnsAnswer(name: string, answer: FakeDnsAnswer): Promise<void> {
  const response = await fetch(`${origin()}/__fake/dns/${encodeURIComponent(name)}`, { method: "POST", body: JSON.stringify(answer) });
  if (!response.ok) throw new Error(`fake dns: ${response.status}`);
}

export async function dnsLookups(name: string): Promise<Array<{ query: Record<string, string>; accept: string | null }>> {
  return (await fetch(`${origin()}/__fake/dns-requests?name=${encodeURIComponent(name)}`)).json();
}
