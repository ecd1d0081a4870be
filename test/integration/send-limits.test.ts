// Bounds of the send path (issue 11, items 2, 3 and 6, and the event fields): every field checked in
// bytes before anything is stored, JSON inputs bounded in size and depth before they are parsed,
// and a refused request leaves nothing behind in R2, D1 or the queues.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { api, apiWith, createDomain, recordingQueues, uniqueDomain } from "../helpers";

const testEnv = env as unknown as Env;

function messageForm(fields: Array<[string, string]>): FormData {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  return form;
}

async function sendRecorded(domain: string, fields: Array<[string, string]>) {
  const recorded = recordingQueues(testEnv);
  const response = await apiWith(recorded.env, `/v3/${domain}/messages`, { method: "POST", body: messageForm(fields) });
  return { response, jobs: recorded.jobs, eventMessages: recorded.eventMessages };
}

/** Everything a send of this domain could have left: stored copies, outgoing packs, metadata rows. */
async function leftBehind(domain: string): Promise<{ r2: string[]; rows: number }> {
  const r2: string[] = [];
  for (const prefix of ["stored/", "outgoing/", `${domain}/`]) {
    const listing = await testEnv.MESSAGES.list({ prefix, limit: 1000 });
    r2.push(...listing.objects.map((o) => o.key).filter((key) => key.includes(`${domain}/`)));
  }
  let rows = 0;
  for (const table of ["messages", "message_facts"]) {
    const exists = await testEnv.DB.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = ?").bind(table).first<{ n: number }>();
    if (exists!.n === 0) continue;
    rows += (await testEnv.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE domain = ?`).bind(domain).first<{ n: number }>())!.n;
  }
  return { r2, rows };
}

async function expectRefused(domain: string, fields: Array<[string, string]>, message: RegExp): Promise<void> {
  const { response, jobs, eventMessages } = await sendRecorded(domain, fields);
  const body = (await response.json()) as { message: string };
  expect(response.status, body.message).toBe(400);
  expect(body.message).toMatch(message);
  expect(jobs).toEqual([]);
  expect(eventMessages).toEqual([]);
}

describe("Messages API byte limits (item 2)", () => {
  it("refuses a recipient longer than a tracking token holds, and leaves nothing in R2, D1 or the queues", async () => {
    const domain = uniqueDomain("long");
    await createDomain(domain, { open: true, click: "yes", unsubscribe: true });
    const base: Array<[string, string]> = [
      ["from", `me@${domain}`],
      ["subject", "s"],
      ["html", '<p><a href="https://x.test/">x</a></p>'],
    ];
    for (const to of [`${"a".repeat(300)}@example.org`, `${"é".repeat(200)}@example.org`, `ok@example.org, ${"ü".repeat(130)}@example.org`]) {
      await expectRefused(domain, [...base, ["to", to]], /255 bytes/);
    }
    await expectRefused(domain, [...base, ["to", "ok@example.org"], ["cc", `${"é".repeat(200)}@example.org`]], /255 bytes/);
    expect(await leftBehind(domain)).toEqual({ r2: [], rows: 0 });
    // 255 bytes exactly is still a valid recipient.
    const { response } = await sendRecorded(domain, [...base, ["to", `${"é".repeat(121)}a@example.org`]]);
    expect(response.status).toBe(200);
  });

  it("refuses to send for a domain whose name leaves no room for the message id in a token", async () => {
    const label = "a".repeat(60);
    // 241 characters: a message id (41 characters and "@domain") would be 282 bytes.
    const domain = [label, label, label, uniqueDomain("x").split(".")[0]!.padEnd(50, "x"), "example"].join(".");
    await createDomain(domain, { open: true });
    await expectRefused(
      domain,
      [
        ["from", `me@${domain}`],
        ["to", "ok@example.org"],
        ["text", "t"],
      ],
      /too long/,
    );
    expect(await leftBehind(domain)).toEqual({ r2: [], rows: 0 });
  });

  it("bounds the fields that end up in every event: subject, display names, and the event as a whole", async () => {
    const domain = uniqueDomain("evt");
    await createDomain(domain);
    const base: Array<[string, string]> = [
      ["from", `me@${domain}`],
      ["text", "t"],
    ];
    await expectRefused(domain, [...base, ["to", "ok@example.org"], ["subject", "é".repeat(5000)]], /subject/);
    await expectRefused(domain, [...base, ["to", `"${"N".repeat(2000)}" <ok@example.org>`], ["subject", "s"]], /1024 bytes/);
    // 1,000 recipients in the To header, each with a long display name: every accepted event would
    // carry a To header and recipient list of more than 100 KB.
    const to = Array.from({ length: 1000 }, (_, i) => `"Recipient number ${i} with a rather long display name, Esq." <r${i}@example.org>`).join(", ");
    await expectRefused(domain, [...base, ["to", to], ["subject", "s"]], /event/);
    expect(await leftBehind(domain)).toEqual({ r2: [], rows: 0 });
  });

  it("bounds what recipient variables can grow a message to, before it is built", async () => {
    const domain = uniqueDomain("grow");
    await createDomain(domain);
    const base: Array<[string, string]> = [
      ["from", `me@${domain}`],
      ["to", "a@example.org, b@example.org"],
      ["subject", "s"],
    ];
    const big = JSON.stringify({ "a@example.org": { big: "x".repeat(500_000) } });
    await expectRefused(domain, [...base, ["recipient-variables", big], ["html", "%recipient.big%".repeat(60)]], /25 MB/);
    await expectRefused(domain, [...base, ["recipient-variables", big], ["text", "t"], ["v:note", "%recipient.big%"]], /16 kB/);
    const withoutSubject = base.filter(([name]) => name !== "subject");
    await expectRefused(domain, [...withoutSubject, ["recipient-variables", big], ["text", "t"], ["subject", "%recipient.big%"]], /subject/);
    await expectRefused(domain, [...base, ["recipient-variables", big], ["text", "t"], ["h:X-Note", "%recipient.big%"]], /16 kB/);
    const breaks = JSON.stringify({ "a@example.org": { name: "A\r\nBcc: victim@example.org" } });
    await expectRefused(
      domain,
      [...withoutSubject, ["recipient-variables", breaks], ["text", "t"], ["subject", "Hi %recipient.name%"]],
      /may not contain CR, LF or NUL/,
    );
    expect(await leftBehind(domain)).toEqual({ r2: [], rows: 0 });
  });
});

describe("prepare byte limits (item 3)", () => {
  it("counts bytes for message_id and recipient, and remembers nothing it refused", async () => {
    const domain = uniqueDomain("prep");
    await createDomain(domain, { open: true });
    const base = { domain, message_id: "m1@x.test", recipient: "ok@example.org", html: "<p>x</p>" };
    for (const override of [{ message_id: "é".repeat(200) }, { recipient: `${"é".repeat(200)}@example.org` }]) {
      const response = await api("/v1/tracking/prepare", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...base, ...override }),
      });
      const body = (await response.json()) as { message: string };
      expect(response.status, body.message).toBe(400);
      expect(body.message).toMatch(/255 bytes/);
    }
    expect((await leftBehind(domain)).rows).toBe(0);
  });
});

/** `[[[...]]]` or `{"a":{"a":...}}` nested `depth` levels. */
function nested(depth: number, kind: "array" | "object" = "object"): string {
  return kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

describe("JSON inputs are bounded in size and depth before they are parsed (item 6)", () => {
  it("refuses deeply nested recipient-variables and X-Mailgun-Variables with a 400, storing nothing", async () => {
    const domain = uniqueDomain("deep");
    await createDomain(domain);
    const base: Array<[string, string]> = [
      ["from", `me@${domain}`],
      ["to", "a@example.org"],
      ["text", "t"],
    ];
    await expectRefused(domain, [...base, ["recipient-variables", `{"a@example.org":${nested(100_000)}}`]], /recipient-variables.*deep/);
    await expectRefused(domain, [...base, ["recipient-variables", `{"a@example.org":{"v":${nested(40, "array")}}}`]], /deep/);
    await expectRefused(domain, [...base, ["h:X-Mailgun-Variables", nested(40)]], /deep/);
    await expectRefused(
      domain,
      [...base, ["recipient-variables", JSON.stringify({ "a@example.org": { v: "x".repeat(2_100_000) } })]],
      /recipient-variables.*bytes/,
    );
    expect(await leftBehind(domain)).toEqual({ r2: [], rows: 0 });
    // Nesting within the bound is still taken.
    const ok = await sendRecorded(domain, [...base, ["recipient-variables", `{"a@example.org":{"v":${nested(20)}}}`]]);
    expect(ok.response.status).toBe(200);
  });

  it("refuses deeply nested JSON bodies on prepare, the analytics routes and the suppression lists", async () => {
    const domain = uniqueDomain("deepb");
    await createDomain(domain);
    const json = { "content-type": "application/json" };
    const cases: Array<[string, string, string]> = [
      ["/v1/tracking/prepare", "POST", `{"domain":"${domain}","message_id":"m@x","recipient":"a@example.org","user_variables":${nested(100_000)}}`],
      ["/v1/analytics/metrics", "POST", `{"filter":${nested(100_000, "array")}}`],
      [`/v3/${domain}/bounces`, "POST", `[{"address":"a@example.org","error":${nested(100_000)}}]`],
      [`/v3/domains/${domain}/webhooks`, "POST", `{"id":"opened","url":${nested(100_000, "array")}}`],
    ];
    for (const [path, method, body] of cases) {
      const response = await api(path, { method, headers: json, body });
      const answer = (await response.json()) as { message: string };
      expect(response.status, `${path}: ${answer.message}`).toBe(400);
      expect(answer.message, path).toMatch(/deep/);
    }
    expect((await leftBehind(domain)).rows).toBe(0);
  });
});
