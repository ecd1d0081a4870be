// The Worker as deployed, plus bare routes that answer the same status as the tracking routes
// with no work at all: the baselines the hot path is measured against, in the same harness.
// "/__bare/*" answer before any router (the strictest baseline); "/__hono/*" are ordinary Hono
// routes, the way a route of this Worker's API is served.
import { Hono } from "hono";
import type { Env } from "../src/env";
import worker from "../src/index";

export { DomainState } from "../src/durable-objects/domain-state";

const GIF = Uint8Array.from(atob("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="), (c) => c.charCodeAt(0));
const gif = () => new Response(GIF, { headers: { "content-type": "image/gif", "cache-control": "no-store" } });
// The same answer the click gives (a 302 with Referrer-Policy, which issue 13 requires of every
// redirect), so that the ratio measures the tracking work and not the answer's headers.
const redirect = () => new Response(null, { status: 302, headers: { location: "https://example.org/landing", "referrer-policy": "no-referrer" } });

export function bareResponse(url: string): Response | null {
  // A substring check, not a URL parse: the tracking side parses its own URL, as in production.
  // The bare routes ignore whatever follows them, so they can be called with the same token-bearing
  // URL as a real hit (/__bare/o/<token>) and the harness builds requests of the same size.
  if (url.includes("/__bare/o")) return gif();
  if (url.includes("/__bare/c")) return redirect();
  return null;
}

const honoBaseline = new Hono<{ Bindings: Env }>().get("/__hono/o/*", gif).get("/__hono/c/*", redirect);

export default {
  fetch(request, env, ctx) {
    if (request.url.includes("/__hono/")) return honoBaseline.fetch(request, env, ctx);
    return bareResponse(request.url) ?? worker.fetch(request, env, ctx);
  },
  queue: worker.queue,
} satisfies ExportedHandler<Env, unknown>;
