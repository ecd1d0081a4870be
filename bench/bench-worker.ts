// The Worker as deployed (the default export: src/index.ts's own handlers, nothing in front of
// them), and the baselines the hot path is measured against, each a fetch handler of its own so
// that neither side pays for a dispatch the other does not (production has none):
// - bareWorker: the least any route does for the same request: it reads request.url once, finds
//   the path the way the edge does (targetOf), and answers with the very builders the edge uses
//   (pixelResponse, redirectResponse), so the ratio measures the tracking work and not the answer.
// - honoWorker: ordinary Hono routes, the way a route of this Worker's API is served.
import { Hono } from "hono";
import { pixelResponse, redirectResponse } from "../src/edge/responses";
import { targetOf } from "../src/edge/tracking";
import type { Env } from "../src/env";
import worker from "../src/index";

export { DomainState } from "../src/durable-objects/domain-state";

/** Where the baselines' redirect points: as long as a production-shaped click destination (bench/pipeline.bench.ts, about 150 characters). */
export const BARE_REDIRECT_URL =
  "https://shop.customer-7.example.com/collections/autumn-sale/products/wool-coat-107?utm_source=newsletter&utm_medium=email&utm_campaign=autumn-2026&variant=107";

const gif = () => pixelResponse();
const redirect = () => redirectResponse(BARE_REDIRECT_URL)!;
const notFound = () => new Response(null, { status: 404 });

export const bareWorker = {
  fetch(request) {
    const path = targetOf(request.url).path;
    if (path.startsWith("/o/")) return gif();
    if (path.startsWith("/c/")) return redirect();
    return notFound();
  },
} satisfies ExportedHandler<Env, unknown>;

const honoBaseline = new Hono<{ Bindings: Env }>().get("/o/*", gif).get("/c/*", redirect);

export const honoWorker = {
  fetch: (request, env, ctx) => honoBaseline.fetch(request, env, ctx),
} satisfies ExportedHandler<Env, unknown>;

export default worker;
