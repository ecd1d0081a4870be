// What every benchmark shares: a plain execution context (the test pool's own one keeps every
// context alive and overflows the stack after a few thousand), and calls through the bench
// Worker's fetch handler with it, waiting for waitUntil work.
import { env } from "cloudflare:test";
import type { Env } from "../src/env";
import worker from "./bench-worker";

export const benchEnv = env as unknown as Env;

export function plainContext() {
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  return { ctx, drain: () => Promise.all(pending) };
}

export async function call(url: string, init: RequestInit = {}, callEnv: Env = benchEnv): Promise<Response> {
  const { ctx, drain } = plainContext();
  const response = await worker.fetch(new Request(url, init) as Request<unknown, IncomingRequestCfProperties>, callEnv, ctx);
  await drain();
  return response;
}

/** Basic auth for the bench Worker's API key (bench/vitest.config.ts). */
export const AUTH = { authorization: `Basic ${btoa("api:bench-api-key")}` };

/** The p-th percentile of samples (nearest rank). */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const median = (samples: number[]) => percentile(samples, 50);

/** One figure, one line, aligned with the others. */
export function report(name: string, value: string): void {
  console.log(`${name.padEnd(70)} ${value}`);
}
