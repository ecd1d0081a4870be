// The Worker as deployed, plus two bare routes that answer the same status as the tracking routes
// with no work at all: the baseline the hot path is measured against, in the same harness.
import worker from "../src/index";
import type { Env } from "../src/env";

export { DomainState } from "../src/durable-objects/domain-state";

const GIF = Uint8Array.from(atob("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="), (c) => c.charCodeAt(0));

export function bareResponse(url: string): Response | null {
  // A suffix check, not a URL parse: the tracking side parses its own URL, as in production.
  if (url.endsWith("/__bare/o")) return new Response(GIF, { headers: { "content-type": "image/gif", "cache-control": "no-store" } });
  if (url.endsWith("/__bare/c")) return new Response(null, { status: 302, headers: { location: "https://example.org/landing" } });
  return null;
}

export default {
  fetch(request, env, ctx) {
    return bareResponse(request.url) ?? worker.fetch(request, env, ctx);
  },
  queue: worker.queue,
} satisfies ExportedHandler<Env, unknown>;
