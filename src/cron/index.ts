// The scheduled handler: every cron run runs each step below, side by side and independently: one
// failing step is logged and the others still run (each step is resumable, so the next run picks
// it up). The run then logs one line if any step did something (src/domain/cron-summary.ts).
//
// The steps share one invocation, and so D1's 1,000 queries per invocation. Each step's bound
// (docs/scale.md, "Per-invocation query budgets"), at the deployed ring (K = 4 databases a slot):
// - stats rollup: at most ~420 (ROLLUP_CHUNKS_PER_RUN, src/cron/rollups.ts); the rest is queued;
// - retention purge: 2 slots' watermarks (~20), PURGE_CHUNKS_PER_RUN batches (120), the legacy
//   check (1) and LEGACY_PURGE_QUERIES_PER_RUN (100): ~240;
// - certificate and DNS checks: 50 hosts each, at most 2 queries a host: 200;
// - webhook ledger purge: 20;
// - stored message purge: R2 only.
// About 880 at most.

import { cronRunLine, type StepReport } from "../domain/cron-summary";
import type { Env } from "../env";
import { checkCertificates } from "./certificates";
import { checkDnsRecords } from "./dns-checks";
import { purgeExpired } from "./retention";
import { rollUpStats } from "./rollups";
import { purgeStoredMessagesStep } from "./stored-messages";
import { purgeWebhookLedger } from "./webhook-ledger";

type CronStep = (env: Env, scheduledTime: number) => Promise<object>;

const STEPS: Record<string, CronStep> = {
  "retention purge": purgeExpired,
  "certificate checks": checkCertificates,
  "dns checks": checkDnsRecords,
  "webhook ledger purge": purgeWebhookLedger,
  "stats rollup": rollUpStats,
  "stored message purge": purgeStoredMessagesStep,
};

async function runSteps(env: Env, scheduledTime: number): Promise<void> {
  const reports = new Map<string, StepReport>();
  await Promise.all(
    Object.entries(STEPS).map(([name, step]) =>
      step(env, scheduledTime).then(
        (report) => void reports.set(name, report as StepReport),
        (error: unknown) => console.error(JSON.stringify({ msg: `${name} failed; the next run resumes it`, error: String(error) })),
      ),
    ),
  );
  const line = cronRunLine(reports);
  if (line) console.log(JSON.stringify(line));
}

export async function handleScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  ctx.waitUntil(runSteps(env, controller.scheduledTime));
}
