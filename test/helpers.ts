// Shared helpers for integration tests: API calls with auth, a domain with tracking on, prepare.
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import type { DeliveryJob } from "../src/domain/delivery-job";
import worker from "../src/index";
import type { Env } from "../src/env";

export const API_KEY = "test-api-key";
export const BASE = "http://127.0.0.1";

export function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Basic ${btoa(`api:${API_KEY}`)}`);
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

/** An API call with auth through the Worker's fetch handler, with settings other than the test config's. */
export async function apiWith(callEnv: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Basic ${btoa(`api:${API_KEY}`)}`);
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, { ...init, headers }) as Request<unknown, IncomingRequestCfProperties>, callEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** The test env with the delivery and events queues recording what is sent instead of delivering it. */
export function recordingQueues(base: Env = env as unknown as Env) {
  const deliveries: DeliveryJob[] = [];
  const events: any[] = []; // QueueMessage bodies; tests read their `event` freely
  const recorder = <T>(into: T[]) => ({ send: async (b: T) => void into.push(b), sendBatch: async (bs: Array<{ body: T }>) => void into.push(...bs.map((m) => m.body)) });
  const recordingEnv: Env = {
    ...base,
    DELIVERY: recorder(deliveries) as unknown as Env["DELIVERY"],
    EVENTS: recorder(events) as unknown as Env["EVENTS"],
  };
  return { env: recordingEnv, deliveries, events };
}

export function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  return data;
}

let counter = 0;
/** A fresh domain name per call: storage is shared between the tests of a file. */
export function uniqueDomain(prefix = "d"): string {
  return `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}.example.com`;
}

export async function createDomain(name: string, tracking: { open?: boolean; click?: string; unsubscribe?: boolean } = {}): Promise<void> {
  const created = await api("/v4/domains", { method: "POST", body: form({ name }) });
  if (created.status !== 200) throw new Error(`create domain: ${created.status} ${await created.text()}`);
  if (tracking.open) await api(`/v3/domains/${name}/tracking/open`, { method: "PUT", body: form({ active: "yes" }) });
  if (tracking.click) await api(`/v3/domains/${name}/tracking/click`, { method: "PUT", body: form({ active: tracking.click }) });
  if (tracking.unsubscribe) await api(`/v3/domains/${name}/tracking/unsubscribe`, { method: "PUT", body: form({ active: "yes" }) });
}

export interface Prepared {
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
}

export async function prepare(body: Record<string, unknown>): Promise<Prepared> {
  const response = await api("/v1/tracking/prepare", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`prepare: ${response.status} ${await response.text()}`);
  return response.json();
}

/** The tracking links of a prepared message, by kind. */
export function linksIn(content: string): { open: string[]; click: string[]; unsubscribe: string[] } {
  const find = (kind: string) => [...content.matchAll(new RegExp(`https?://[^/"\\s<>]+/${kind}/[A-Za-z0-9_-]+`, "g"))].map((m) => m[0]);
  return { open: find("o"), click: find("c"), unsubscribe: find("u") };
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function listEvents(domain: string, query = ""): Promise<{ items: Array<Record<string, any>>; paging: Record<string, string> }> {
  const response = await api(`/v3/${domain}/events${query ? `?${query}` : ""}`);
  if (response.status !== 200) throw new Error(`events: ${response.status} ${await response.text()}`);
  return response.json();
}
