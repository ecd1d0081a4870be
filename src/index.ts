// Wiring only: the Worker's handlers and the Durable Object class.
import { apiApp } from "./api/app";
import { handleQueue } from "./consumers";
import { handleScheduled } from "./cron";
import { handleHostPaths } from "./edge/hosts";
import { handleTracking } from "./edge/tracking";
import type { Env } from "./env";
import { handleInboundEmail } from "./inbound/handle-email";
import { handlePanel } from "./panel";

export { DomainState } from "./durable-objects/domain-state";

export default {
  fetch(request, env, ctx) {
    // Tracking paths on any host; then robots.txt, and a tracking host's 404 page for the rest; the
    // panel and the API only on the deployment's own hosts (SHARED_HOSTS).
    return handleTracking(request, env, ctx) ?? handleHostPaths(request, env) ?? handlePanel(request, env, ctx) ?? apiApp.fetch(request, env, ctx);
  },
  queue: handleQueue,
  email: handleInboundEmail,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, unknown>;
