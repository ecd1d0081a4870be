// The Hono context type, defined once for every API sub-app.
import type { Env } from "../env";

export type ApiEnv = { Bindings: Env };
