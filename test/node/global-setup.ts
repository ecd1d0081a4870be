// Vitest globalSetup (Node) of the "node" and "browser" projects: applies the D1 migrations once
// per run into a template state directory that every Worker a test starts copies
// (test/node/start-worker.ts), and, for "node", starts the one Worker its files share. Hands both
// over with provide().
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { makeMigratedState, startWorker } from "./start-worker";

/** One template for both projects (their setups run in this one process); removed after the last. */
const run = globalThis as { tidingsTemplate?: { dir: string; users: number } };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The shared Worker logs into this process, outside any test, so `silent: "passed-only"` cannot
  // hold its lines back: only its warnings and errors are printed (its console.log lines and the
  // local queue's "QUEUE ... 2/2" lines are not). wrangler reads this setting at every log call.
  process.env.WRANGLER_LOG = "warn";
  run.tidingsTemplate ??= { dir: makeMigratedState(), users: 0 };
  const template = run.tidingsTemplate;
  template.users++;
  project.provide("workerStateTemplate", template.dir);
  const shared = project.name === "node" ? await startWorker({}, { template: template.dir }) : undefined;
  if (shared) {
    project.provide("sharedWorkerUrl", shared.url);
    project.provide("sharedWorkerApiKey", shared.apiKey);
  }
  return async () => {
    await shared?.stop();
    if (--template.users === 0) {
      rmSync(template.dir, { recursive: true, force: true });
      run.tidingsTemplate = undefined;
    }
  };
}
