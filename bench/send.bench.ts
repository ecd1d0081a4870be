// Figures for issue 3, from one run (ratios, not absolute numbers, are what compare):
//  1. the Messages API request alone (its queues sinks, so no consumer work runs behind it) for
//     1,000 recipients, min and median of 10;
//  2. recipients/s accepted by the Messages API for a 1,000-recipient batch with
//     recipient-variables, with the real local queues (the request validates, stores and queues
//     compose packs; it builds no copy), against building the same per-recipient MIME messages
//     (tracking included) in a bare loop, which the delivery consumer now does;
//  3. deliveries/s from the delivery consumer to the local mailbox (`npm start`'s relay sink),
//     building each copy from the stored request first.
import { createMessageBatch } from "cloudflare:test";
import { beforeAll, expect, inject, it } from "vitest";
import { composeForRecipient, recipientFacts } from "../src/api/compose-message";
import type { FormValue } from "../src/api/fields";
import { parseMessageEntries } from "../src/api/message-form";
import { getDomain } from "../src/db/domains";
import { randomId } from "../src/domain/base64url";
import type { DeliveryJob } from "../src/domain/delivery-job";
import { type EventPack, mergeEvent } from "../src/domain/event-packs";
import { resolveTracking } from "../src/domain/tracking-settings";
import type { Env } from "../src/env";
import { withQueueSinks } from "../test/support/hostile-context";
import { partitionsAs } from "../test/support/partitions";
import worker from "./bench-worker";
import { AUTH, benchEnv, call, median, plainContext, report } from "./harness";

const RECIPIENTS = 1000;
const RUNS = 3;

function batchFields(domain: string): Array<[string, FormValue]> {
  const recipients = Array.from({ length: RECIPIENTS }, (_, i) => `reader${i}@example.org`);
  const variables = Object.fromEntries(recipients.map((r, i) => [r, { first: `Reader ${i}`, id: i }]));
  return [
    ["from", `News <news@${domain}>`],
    ["to", recipients.join(",")],
    ["subject", "Hello %recipient.first%"],
    [
      "html",
      `<html><body><p>Hi %recipient.first%,</p>${Array.from({ length: 5 }, (_, i) => `<p><a href="https://example.org/article/${i}?ref=news">Article ${i}</a></p>`).join("")}</body></html>`,
    ],
    ["text", "Hi %recipient.first%, read https://example.org/article/0?ref=news"],
    ["o:tag", "newsletter"],
    ["v:reader", "%recipient.id%"],
    ["recipient-variables", JSON.stringify(variables)],
  ];
}

function formOf(fields: Array<[string, FormValue]>): FormData {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  return form;
}

beforeAll(async () => {
  const domain = "send-bench.example.com";
  const created = await call("http://127.0.0.1/v4/domains", { method: "POST", headers: AUTH, body: new URLSearchParams({ name: domain }) });
  expect(created.status).toBe(200);
  for (const t of ["open", "click", "unsubscribe"]) {
    await call(`http://127.0.0.1/v3/domains/${domain}/tracking/${t}`, { method: "PUT", headers: AUTH, body: new URLSearchParams({ active: "yes" }) });
  }
});

it("Messages API: the request alone, queues as sinks (min and median of 10)", async () => {
  const domain = "send-bench.example.com";
  // First, and with sinks: no consumer work runs behind the measured requests (the next test's
  // sends go to the real local queues, whose consumer then composes their copies).
  const sinkEnv = withQueueSinks(benchEnv);
  const everyone = Array.from({ length: RECIPIENTS }, (_, i) => `plain${i}@example.org`).join(", ");
  const cases: Array<[string, Array<[string, FormValue]>]> = [
    [
      "1,000 recipients in To, no recipient-variables",
      [
        ["from", `News <news@${domain}>`],
        ["to", everyone],
        ["subject", "Hello"],
        ["html", '<p>Hi <a href="https://example.org/a">a</a></p>'],
        ["text", "Hi"],
      ],
    ],
    ["1,000 recipients, recipient-variables", batchFields(domain)],
  ];
  for (const [name, fields] of cases) {
    const ms: number[] = [];
    for (let run = 0; run < 10; run++) {
      const began = performance.now();
      const response = await call(`http://127.0.0.1/v3/${domain}/messages`, { method: "POST", headers: AUTH, body: formOf(fields) }, sinkEnv);
      ms.push(performance.now() - began);
      expect(response.status).toBe(200);
    }
    report(`Messages API request, ${name} (ms, min / median)`, `${Math.min(...ms).toFixed(0)} / ${median(ms).toFixed(0)}`);
  }
});

it("Messages API: accepting a 1,000-recipient batch vs building its MIME", async () => {
  const domain = "send-bench.example.com";
  const fields = batchFields(domain);
  const record = (await getDomain(benchEnv.DB, domain))!;

  const buildMs: number[] = [];
  const acceptMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Baseline: parse the same request and build every recipient's tracked MIME, nothing else.
    let began = performance.now();
    const request = await parseMessageEntries(fields);
    const tracking = resolveTracking(record, request.tracking);
    let bytes = 0;
    for (const recipient of request.to) {
      const messageId = `bench-${run}@${domain}`;
      bytes += (
        await composeForRecipient(benchEnv, record, request, recipientFacts(request, recipient, messageId), {
          messageId,
          issuedAt: Math.floor(Date.now() / 1000),
          tracking,
          date: new Date().toUTCString(),
        })
      ).size;
    }
    buildMs.push(performance.now() - began);
    expect(bytes).toBeGreaterThan(RECIPIENTS * 1000);

    // The real thing through the Worker: validation, suppression check, stored request, metadata
    // and compose packs on the real local queues.
    began = performance.now();
    const response = await call(`http://127.0.0.1/v3/${domain}/messages`, { method: "POST", headers: AUTH, body: formOf(fields) });
    acceptMs.push(performance.now() - began);
    expect(response.status).toBe(200);
  }
  const accept = median(acceptMs);
  const build = median(buildMs);
  report(
    "Messages API, 1,000-recipient batch: accepted (recipients/s)",
    `${((RECIPIENTS / accept) * 1000).toFixed(0)}  (${accept.toFixed(0)} ms per batch, median of ${RUNS})`,
  );
  report("building the same MIME messages in a bare loop (recipients/s)", `${((RECIPIENTS / build) * 1000).toFixed(0)}  (${build.toFixed(0)} ms)`);
  report("accepting / bare building", `${(accept / build).toFixed(2)}x`);
});

it("delivery consumer: deliveries/s to the local mailbox", async () => {
  const domain = "send-bench.example.com";
  // Compose packs as the Messages API makes them, captured instead of queued.
  const jobs: DeliveryJob[] = [];
  const capture: Env = {
    ...benchEnv,
    DELIVERY: { sendBatch: async (b: Array<{ body: DeliveryJob }>) => void jobs.push(...b.map((m) => m.body)) } as unknown as Env["DELIVERY"],
    ...partitionsAs(benchEnv, "events", { sendBatch: async () => {} }),
  };
  const response = await call(`http://127.0.0.1/v3/${domain}/messages`, { method: "POST", headers: AUTH, body: formOf(batchFields(domain)) }, capture);
  expect(response.status).toBe(200);
  // Packs of up to 100 recipients.
  expect(jobs.length).toBeLessThanOrEqual(RECIPIENTS / 100 + 2);

  let events = 0;
  const count = (packs: EventPack[]) => {
    for (const pack of packs) for (const delta of pack.events) if (mergeEvent(pack.common, delta).event === "delivered") events++;
  };
  const deliverEnv: Env = {
    ...benchEnv,
    SMTP_RELAY_HOST: "127.0.0.1",
    SMTP_RELAY_PORT: String(inject("mailboxSmtpPort")),
    SMTP_RELAY_SECURITY: "none",
    SMTP_RELAY_USER: "",
    ...partitionsAs(benchEnv, "events", { sendBatch: async (b: Array<{ body: EventPack }>) => count(b.map((m) => m.body)) }),
  };
  const began = performance.now();
  // Batches as wrangler.toml sets them for the delivery queue (5 packs).
  for (let i = 0; i < jobs.length; i += 5) {
    const batch = createMessageBatch(
      "tidings-delivery",
      jobs.slice(i, i + 5).map((body) => ({ id: randomId(), timestamp: new Date(), attempts: 1, body })),
    );
    const { ctx, drain } = plainContext();
    await worker.queue(batch, deliverEnv, ctx);
    await drain();
  }
  const ms = performance.now() - began;
  expect(events).toBe(RECIPIENTS);
  const stored = (await (await fetch(`http://127.0.0.1:${inject("mailboxHttpPort")}/api/messages`)).json()) as unknown[];
  expect(stored.length).toBeGreaterThanOrEqual(RECIPIENTS);
  report("delivery consumer to the local mailbox, packs of 100 in batches of 5 (deliveries/s)", `${((RECIPIENTS / ms) * 1000).toFixed(0)}`);
});
