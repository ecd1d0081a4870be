// The Hono context type of the panel: the Worker's bindings and the signed-in session.
import type { Env } from "../env";
import type { Session } from "./session";

export type PanelEnv = { Bindings: Env; Variables: { session: Session; csrf: string } };
