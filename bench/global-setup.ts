/// <reference types="node" />
// Benchmark globalSetup (Node side): the local mailbox that `npm start` runs, on free ports in a
// temporary folder, as the relay the delivery benchmark hands messages to; and a webhook receiver
// that answers every POST with 200 once it has read the body.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startMailbox } from "../src/tools/mailbox.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    mailboxSmtpPort: number;
    mailboxHttpPort: number;
    webhookReceiverPort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(tmpdir(), "tidings-bench-mailbox-"));
  const mailbox = await startMailbox({ smtpPort: 0, httpPort: 0, dir });
  project.provide("mailboxSmtpPort", mailbox.smtpPort);
  project.provide("mailboxHttpPort", mailbox.httpPort);
  const receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end("ok"));
  });
  receiver.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  project.provide("webhookReceiverPort", (receiver.address() as { port: number }).port);
  return async () => {
    receiver.close();
    await mailbox.close();
    rmSync(dir, { recursive: true, force: true });
  };
}
