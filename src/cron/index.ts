// The scheduled handler: every cron run runs each step below, independently: one failing step is
// logged and the others still run (each step is resumable, so the next run picks it up).
import type { Env } from "../env";
import { checkCertificates } from "./certificates";
import { checkDnsRecords } from "./dns-checks";
import { purgeExpired } from "./retention";
import { purgeWebhookLedger } from "./webhook-ledger";
import { rollUpStats } from "./rollups";
import { purgeStoredMessagesStep } from "./stored-messages";

type CronStep = (env: Env, scheduledTime: number) => Promise<unknown>;

const STEPS: Record<string, CronStep> = {
  "retention purge": purgeExpired,
  "certificate checks": checkCertificates,
  "dns checks": checkDnsRecords,
  "webhook ledger purge": purgeWebhookLedger,
  "stats rollup": rollUpStats,
  "stored message purge": purgeStoredMessagesStep,
};

export async function handleScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  for (const [name, step] of Object.entries(STEPS)) {
    ctx.waitUntil(
      step(env, controller.scheduledTime).then(
        (report) => console.log(JSON.stringify({ msg: name, ...(report as object) })),
        (error: unknown) => console.error(JSON.stringify({ msg: `${name} failed; the next run resumes it`, error: String(error) })),
      ),
    );
  }
}
