// The one line a cron run logs. `npm start` runs the cron every 30 s, and a deployment every
// 5 minutes: a run that found nothing to do logs nothing, and a run that did something logs one
// JSON line naming only those steps and only their non-zero counts, e.g.
//   {"msg":"cron run","steps":{"stats rollup":{"events":12,"chunks":1}}}
// Failed steps are logged on their own (src/cron/index.ts), so an error is never folded in here.

/** A step's report: counts, and flags such as `unfinished`. */
export type StepReport = Record<string, unknown>;

export interface CronRunLine {
  msg: "cron run";
  steps: Record<string, StepReport>;
}

/** The fields of a report that say something happened: positive counts and true flags. */
function didSomething(report: StepReport): StepReport | null {
  const kept = Object.entries(report).filter(([, value]) => (typeof value === "number" && value > 0) || value === true);
  return kept.length > 0 ? Object.fromEntries(kept) : null;
}

/** `reports` by step name (a failed step is absent); null when no step did anything. */
export function cronRunLine(reports: ReadonlyMap<string, StepReport>): CronRunLine | null {
  const steps: Record<string, StepReport> = {};
  for (const [name, report] of reports) {
    const kept = didSomething(report);
    if (kept) steps[name] = kept;
  }
  return Object.keys(steps).length > 0 ? { msg: "cron run", steps } : null;
}
