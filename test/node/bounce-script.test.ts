// `npm run bounce` (src/tools/bounce.mjs) end to end, as the README's walkthrough runs it: a Worker
// started like `npm start` (wrangler's local runtime) delivering to the local mailbox, with its
// return paths on a bounce domain; a message sent through the Messages API; then the sample DSN and
// ARF report posted to wrangler's email endpoint for that message, and their events and
// suppressions read back through the API.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listMessages, type RunningMailbox, startMailbox } from "../../src/tools/mailbox.mjs";
import { type RunningWorker, startWorker } from "./start-worker";

const root = path.resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
const DOMAIN = "bounce-script.example.com";
const BOUNCE_DOMAIN = "bounces.tidings.test";

let mailbox: RunningMailbox;
let worker: RunningWorker;
let dir: string;

async function api(pathname: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${worker.url}${pathname}`, { ...init, headers: { authorization: `Basic ${btoa(`api:${worker.apiKey}`)}`, ...init.headers } });
}

async function send(to: string): Promise<void> {
  const form = new FormData();
  for (const [name, value] of [
    ["from", `News <news@${DOMAIN}>`],
    ["to", to],
    ["subject", "January news"],
    ["text", "Hello"],
  ])
    form.append(name!, value!);
  expect((await api(`/v3/${DOMAIN}/messages`, { method: "POST", body: form })).status).toBe(200);
}

/** Returns once the mailbox holds a message to `to`: polls without a clock (a delivery that never comes is the runner's test timeout, not a time this test asserts). */
async function delivered(to: string): Promise<void> {
  while (!(await listMessages(dir)).some((m) => m.to.includes(to))) await new Promise((r) => setTimeout(r, 200));
}

function bounceScript(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [path.join(root, "src/tools/bounce.mjs"), ...args], {
    cwd: root,
    env: { ...process.env, MAILBOX_DIR: dir, TIDINGS_URL: worker.url, API_KEY: worker.apiKey, ...env },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "tidings-bounce-"));
  mailbox = await startMailbox({ smtpPort: 0, httpPort: 0, dir });
  worker = await startWorker({ SMTP_RELAY_HOST: "127.0.0.1", SMTP_RELAY_PORT: String(mailbox.smtpPort), SMTP_RELAY_SECURITY: "none", BOUNCE_DOMAIN });
  expect((await api("/v4/domains", { method: "POST", body: new URLSearchParams({ name: DOMAIN }) })).status).toBe(200);
});

afterAll(async () => {
  await worker?.stop();
  await mailbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("npm run bounce", () => {
  it("posts the sample DSN for a delivered message: a failed event and a bounce", async () => {
    await send("Gone <gone@example.net>");
    await delivered("gone@example.net");
    const [message] = await listMessages(dir);
    expect(message!.envelopeFrom).toMatch(/^bounce\+[a-z2-7]{35}@bounces\.tidings\.test$/);

    const { stdout } = await bounceScript(["dsn", "gone@example.net"]);
    expect(stdout).toContain(`for gone@example.net to ${message!.envelopeFrom}`);
    expect(stdout).toContain(`Recorded: failed event for gone@example.net on ${DOMAIN} (550 5.1.1, delayed bounce)`);
    const bounce = await api(`/v3/${DOMAIN}/bounces/gone@example.net`);
    expect(bounce.status).toBe(200);
    expect(await bounce.json()).toMatchObject({ address: "gone@example.net", code: "550" });
  });

  it("posts the sample ARF report for the newest message when given its return path: a complained event and a complaint", async () => {
    await send("reader@example.net");
    await delivered("reader@example.net");
    const message = (await listMessages(dir)).find((m) => m.to.includes("reader@example.net"))!;
    const { stdout } = await bounceScript(["arf", message.envelopeFrom]);
    expect(stdout).toContain(`Recorded: complained event for reader@example.net on ${DOMAIN}`);
    expect((await api(`/v3/${DOMAIN}/complaints/reader@example.net`)).status).toBe(200);
  });

  it("explains what is wrong instead of posting: no such message, no Worker, no kind", async () => {
    await expect(bounceScript(["dsn", "nobody@example.net"])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("No message for nobody@example.net"),
    });
    await expect(bounceScript(["dsn"], { TIDINGS_URL: "http://127.0.0.1:1" })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("Cannot reach the Worker"),
    });
    await expect(bounceScript(["bounce"])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("Usage: npm run bounce -- dsn|arf") });
  });
});
