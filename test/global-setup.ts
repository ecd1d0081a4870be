/// <reference types="node" />
// Vitest globalSetup (runs in Node, not workerd): starts the scripted SMTP relays the Worker's
// tests deliver to over cloudflare:sockets, and hands their ports over with provide().
import type { TestProject } from "vitest/node";
import { startScriptedSmtp } from "./support/scripted-smtp";

export const SMTP_AUTH = { user: "relay-user", pass: "relay-pass" };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plain = await startScriptedSmtp();
  const auth = await startScriptedSmtp({ requireAuth: SMTP_AUTH });
  const { readFileSync } = await import("node:fs");
  const tlsFiles = { key: readFileSync("/tmp/smtpcert/leaf.key", "utf8"), cert: readFileSync("/tmp/smtpcert/leaf.pem", "utf8") };
  const st = await startScriptedSmtp({ tls: tlsFiles });
  const im = await startScriptedSmtp({ tls: { ...tlsFiles, implicit: true } });
  (project.provide as any)("stPort", st.port);
  (project.provide as any)("imPort", im.port);
  (project.provide as any)("stCtl", st.controlPort);
  project.provide("smtpPort", plain.port);
  project.provide("smtpControlPort", plain.controlPort);
  project.provide("smtpAuthPort", auth.port);
  project.provide("smtpAuthControlPort", auth.controlPort);
  return async () => {
    await Promise.all([plain.close(), auth.close()]);
  };
}
