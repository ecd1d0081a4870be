/// <reference types="node" />
// Benchmark globalSetup (Node side): the local mailbox that `npm start` runs, on free ports in a
// temporary folder, as the relay the delivery benchmark hands messages to.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startMailbox } from "../src/tools/mailbox.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    mailboxSmtpPort: number;
    mailboxHttpPort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(tmpdir(), "tidings-bench-mailbox-"));
  const mailbox = await startMailbox({ smtpPort: 0, httpPort: 0, dir });
  project.provide("mailboxSmtpPort", mailbox.smtpPort);
  project.provide("mailboxHttpPort", mailbox.httpPort);
  return async () => {
    await mailbox.close();
    rmSync(dir, { recursive: true, force: true });
  };
}
