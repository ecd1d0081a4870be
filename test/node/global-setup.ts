// Vitest globalSetup (Node) of the "node" and "browser" projects: applies the D1 migrations once
// into a template state directory that every Worker a test starts copies (test/node/start-worker.ts),
// and, for "node", starts the one Worker its files share. Hands both over with provide().
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { makeMigratedState, startWorker } from "./start-worker";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The shared Worker logs into this process, outside any test, so `silent: "passed-only"` cannot
  // hold its lines back: only its warnings and errors are printed (its console.log lines and the
  // local queue's "QUEUE ... 2/2" lines are not). wrangler reads this setting at every log call.
  process.env.WRANGLER_LOG = "warn";
  const template = makeMigratedState();
  project.provide("workerStateTemplate", template);
  const shared = project.name === "node" ? await startWorker({}, { template }) : undefined;
  if (shared) {
    project.provide("sharedWorkerUrl", shared.url);
    project.provide("sharedWorkerApiKey", shared.apiKey);
  }
  return async () => {
    await shared?.stop();
    rmSync(template, { recursive: true, force: true });
  };
}
