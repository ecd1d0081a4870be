// The scheduled handler: what each cron run does. Today: retention. Bindings: DB.
import type { Env } from "../env";
import { purgeExpired } from "./retention";

export async function handleScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  ctx.waitUntil(
    purgeExpired(env, controller.scheduledTime).then(
      (report) => console.log(JSON.stringify({ msg: "retention purge", ...report })),
      (error: unknown) => console.error(JSON.stringify({ msg: "retention purge failed; the next run resumes it", error: String(error) })),
    ),
  );
}
