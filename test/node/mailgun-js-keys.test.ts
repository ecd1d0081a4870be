// mailgun.js 14, unchanged, with the Keys API and roles: apiKeys.create/list/destroy as its users
// call them, then a domain sending key that sends through messages.create and is refused on
// events.get and on another domain, and stops working once destroyed.
import Mailgun from "mailgun.js";
import type { Interfaces } from "mailgun.js/definitions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "./start-worker";

type Client = ReturnType<InstanceType<typeof Mailgun>["client"]>;
/** mailgun.js 14's client has `apiKeys` (an APIKeysClient); its IMailgunClient type does not list it. */
const apiKeys = (client: Client) => (client as unknown as { apiKeys: Interfaces.IAPIKeysClient }).apiKeys;

let worker: RunningWorker;
let mg: Client;
const DOMAIN = "keys-mgjs.example.com";
const OTHER = "other-mgjs.example.com";

/** What a rejected mailgun.js call carries: the HTTP status and Mailgun's message. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; details: string }> {
  const error = (await call.then(
    () => {
      throw new Error("the call was not refused");
    },
    (e: unknown) => e,
  )) as { status: number; details: string };
  return { status: error.status, details: error.details };
}

beforeAll(async () => {
  worker = await startWorker();
  mg = new Mailgun(FormData).client({ username: "api", key: worker.apiKey, url: worker.url });
  await mg.domains.create({ name: DOMAIN });
  await mg.domains.create({ name: OTHER });
});
afterAll(async () => worker?.stop());

describe("mailgun.js with the Keys API", () => {
  it("a domain sending key made with apiKeys.create sends with messages.create, is refused elsewhere, and stops when destroyed", async () => {
    const created = await apiKeys(mg).create({ role: "sending", kind: "domain", domain_name: DOMAIN, description: "shop" });
    // Mailgun's answer nests the key (and its secret) under `key`; mailgun.js spreads the answer.
    const { secret, id } = (created as unknown as { key: { secret: string; id: string } }).key;
    expect(created).toMatchObject({ id, role: "sending", kind: "domain", domain_name: DOMAIN, description: "shop" });
    expect(created.created_at).toBeInstanceOf(Date);
    expect(Number.isNaN(created.created_at.getTime())).toBe(false);

    const listed = await apiKeys(mg).list({ kind: "domain", domain_name: DOMAIN });
    expect(listed.status).toBe(200);
    expect(listed.totalCount).toBe(1);
    expect(listed.items[0]).toMatchObject({ id, role: "sending", is_disabled: false });
    expect(listed.items[0]!.expires_at).toBeUndefined();
    expect(JSON.stringify(listed)).not.toContain(secret);

    const sender = new Mailgun(FormData).client({ username: "api", key: secret, url: worker.url });
    const sent = await sender.messages.create(DOMAIN, {
      from: `Shop <shop@${DOMAIN}>`,
      to: "ann@example.org",
      subject: "Hello",
      text: "Hi",
      "o:testmode": true,
    });
    expect(sent.status).toBe(200);
    expect(sent.message).toBe("Queued. Thank you.");

    expect(await refusal(sender.events.get(DOMAIN))).toEqual({ status: 403, details: "Forbidden" });
    expect(await refusal(sender.messages.create(OTHER, { from: `x@${OTHER}`, to: "ann@example.org", subject: "No", text: "No" }))).toEqual({
      status: 403,
      details: "Forbidden",
    });
    expect(await refusal(apiKeys(sender).list({}))).toEqual({ status: 403, details: "Forbidden" });

    expect(await apiKeys(mg).destroy(id)).toEqual({ status: 200, message: "key deleted" });
    expect(await refusal(sender.messages.create(DOMAIN, { from: `shop@${DOMAIN}`, to: "ann@example.org", subject: "Late", text: "Late" }))).toEqual({
      status: 401,
      details: "Invalid private key",
    });
  });

  it("a basic key reads with events.get and cannot create keys or domains", async () => {
    const created = await apiKeys(mg).create({ role: "basic" });
    const reader = new Mailgun(FormData).client({ username: "api", key: (created as unknown as { key: { secret: string } }).key.secret, url: worker.url });
    expect((await reader.events.get(DOMAIN)).items).toEqual(expect.any(Array));
    expect((await refusal(apiKeys(reader).create({ role: "admin" }))).status).toBe(403);
    expect((await refusal(reader.domains.create({ name: "nope-mgjs.example.com" }))).status).toBe(403);
  });
});
