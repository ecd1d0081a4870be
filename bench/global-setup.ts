/// <reference types="node" />
// Benchmark globalSetup (Node side): the local mailbox that `npm start` runs, on free ports in a
// temporary folder, as the relay the delivery benchmark hands messages to; a webhook receiver
// that answers every POST with 200 once it has read the body; and nodemailer (a pooled transport)
// sending given messages to that mailbox, timed here in Node, as bench/smtp.bench.ts's yardstick.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import type { TestProject } from "vitest/node";
import { startMailbox } from "../src/tools/mailbox.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    mailboxSmtpPort: number;
    mailboxHttpPort: number;
    webhookReceiverPort: number;
    nodemailerRunnerPort: number;
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
  const runner = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const { connections, messages } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as NodemailerRun;
      sendWithNodemailer(mailbox.smtpPort, connections, messages).then(
        (result) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result)),
        (error: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(error.message),
      );
    });
  });
  await new Promise<void>((resolve) => runner.listen(0, "127.0.0.1", resolve));
  project.provide("nodemailerRunnerPort", (runner.address() as { port: number }).port);
  return async () => {
    runner.close();
    runner.closeAllConnections();
    receiver.close();
    await mailbox.close();
    rmSync(dir, { recursive: true, force: true });
  };
}

/** What bench/smtp.bench.ts posts: the messages to send and the pool's size. */
export interface NodemailerRun {
  connections: number;
  messages: Array<{ from: string; to: string; mime: string }>;
}

/**
 * Sends every message through one pooled transport of `connections` sessions (nodemailer's own
 * queueing, its default 100 messages a session), all handed over at once as a bulk sender would,
 * and times from the first sendMail to the last reply, the pool's connects and QUITs included.
 */
async function sendWithNodemailer(port: number, connections: number, messages: NodemailerRun["messages"]): Promise<{ ms: number; accepted: number }> {
  const started = performance.now();
  const transport = nodemailer.createTransport({ pool: true, maxConnections: connections, host: "127.0.0.1", port, secure: false, ignoreTLS: true });
  const results = await Promise.all(messages.map((m) => transport.sendMail({ envelope: { from: m.from, to: [m.to] }, raw: m.mime })));
  transport.close();
  return { ms: performance.now() - started, accepted: results.filter((r) => r.accepted.length === 1).length };
}
