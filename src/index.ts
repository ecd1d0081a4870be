// Wiring only: the Worker's handlers and the Durable Object class.
import { apiApp } from "./api/app";
import { handleQueue } from "./consumers";
import { handleScheduled } from "./cron";
import { handleTracking } from "./edge/tracking";
import type { Env } from "./env";
import { handleInboundEmail } from "./inbound/handle-email";
import { handlePanel } from "./panel";

export { DomainState } from "./durable-objects/domain-state";

export default {
  fetch(request, env, ctx) {
    return handleTracking(request, env, ctx) ?? handlePanel(request, env, ctx) ?? apiApp.fetch(request, env, ctx);
  },
  queue: handleQueue,
  email: handleInboundEmail,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, unknown>;
