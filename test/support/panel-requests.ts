// Requests to the control panel as a signed-in browser would make them, for the panel's
// integration tests: sign in with a key, then pages with the session cookie, the form's CSRF token,
// and the same requests through the Worker with other settings.
import { createExecutionContext, SELF, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { API_KEY, BASE, form } from "../helpers";

/** The session cookie of a sign-in with `secret` (the API key by default). */
export async function signIn(secret: string = API_KEY): Promise<string> {
  const response = await SELF.fetch(`${BASE}/app/sign-in`, { method: "POST", body: form({ api_key: secret }), redirect: "manual" });
  expect(response.status).toBe(303);
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

/** A panel request with the session cookie; redirects are answered, not followed. */
export function page(path: string, cookie: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie }, redirect: "manual" });
}

/** The session's CSRF token, read from a page's form. */
export async function csrfOf(cookie: string, path = "/app/domains"): Promise<string> {
  const html = await (await page(path, cookie)).text();
  return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
}

/** A panel request through the Worker with other settings (a resolver that cannot be reached, recording queues). */
export async function panelWith(callEnv: Env, path: string, cookie: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie }, redirect: "manual" });
  const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, callEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}
