// The Hono context type of the panel: the Worker's bindings, the signed-in session and the key it
// was opened with (checked again on every request), and the time zone dates are shown in.
import type { Principal } from "../domain/access";
import type { Env } from "../env";
import type { Session } from "./session";

export type PanelEnv = { Bindings: Env; Variables: { session: Session; csrf: string; principal: Principal; timeZone: string } };
