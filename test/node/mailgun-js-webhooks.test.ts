// mailgun.js 14, unchanged, against a running Worker: mg.webhooks as its users call it, and a real
// HTTP receiver (node:http) that checks each post the way Mailgun's docs tell receivers to, with
// node:crypto — an implementation independent of the Worker's.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import Mailgun from "mailgun.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedWorker } from "./start-worker";

const worker = sharedWorker();
let mg: ReturnType<InstanceType<typeof Mailgun>["client"]>;
let receiver: Server;
let receiverUrl: string;
const received: Array<{ path: string; body: any }> = [];
/** Who waits for a post to a path (arrived): resolved by the receiver when it comes. */
const waiting = new Map<string, (post: { path: string; body: any }) => void>();
const DOMAIN = "mgjs-hooks.example.com";

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      const post = { path: req.url ?? "", body: text ? JSON.parse(text) : null };
      received.push(post);
      waiting.get(post.path)?.(post);
      if (req.url === "/moved") res.writeHead(302, { location: `${receiverUrl}/moved-to` }).end();
      else res.writeHead(200, { "content-type": "text/plain" }).end("thanks");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  mg = new Mailgun(FormData).client({ username: "api", key: worker.apiKey, url: worker.url });
  await mg.domains.create({ name: DOMAIN });
});
afterAll(() => {
  receiver?.close();
});

async function signingKey(): Promise<string> {
  const response = await fetch(`${worker.url}/v5/accounts/http_signing_key`, { headers: { authorization: `Basic ${btoa(`api:${worker.apiKey}`)}` } });
  return ((await response.json()) as { http_signing_key: string }).http_signing_key;
}

/** What a receiver does with Mailgun's payload: recompute the HMAC and compare in constant time. */
function verify(key: string, signature: { timestamp: string; token: string; signature: string }): boolean {
  const expected = createHmac("sha256", key)
    .update(signature.timestamp + signature.token)
    .digest();
  const given = Buffer.from(signature.signature, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The first post to `path`, as soon as the receiver has it: no clock and no deadline of its own
 * (a post that never comes is the test runner's timeout, not a time this test asserts).
 */
function arrived(path: string): Promise<{ path: string; body: any }> {
  const already = received.find((r) => r.path === path);
  if (already) return Promise.resolve(already);
  return new Promise((resolve) => waiting.set(path, resolve));
}

describe("mailgun.js webhooks against Tidings", () => {
  it("create, list, get, update, test, destroy", async () => {
    expect(await mg.webhooks.create(DOMAIN, "clicked", `${receiverUrl}/clicked`, false)).toEqual({
      id: "clicked",
      url: `${receiverUrl}/clicked`,
      urls: [`${receiverUrl}/clicked`],
    });
    const listed = (await mg.webhooks.list(DOMAIN, {})) as any;
    expect(listed.clicked.urls).toEqual([`${receiverUrl}/clicked`]);
    expect(await mg.webhooks.get(DOMAIN, "clicked" as never)).toEqual({ id: "clicked", url: `${receiverUrl}/clicked`, urls: [`${receiverUrl}/clicked`] });
    const updated = await mg.webhooks.update(DOMAIN, "clicked", [`${receiverUrl}/one`, `${receiverUrl}/two`]);
    expect(updated).toMatchObject({ id: "clicked", urls: [`${receiverUrl}/one`, `${receiverUrl}/two`] });

    const tested = (await mg.webhooks.create(DOMAIN, "clicked", `${receiverUrl}/test`, true)) as any;
    expect(tested).toMatchObject({ code: 200, message: "thanks" });
    const testPost = received.find((r) => r.path === "/test")!;
    expect(verify(await signingKey(), testPost.body.signature)).toBe(true);
    expect(testPost.body["event-data"].event).toBe("clicked");

    expect(await mg.webhooks.destroy(DOMAIN, "clicked")).toMatchObject({ id: "clicked", urls: [`${receiverUrl}/one`, `${receiverUrl}/two`] });
    await expect(mg.webhooks.get(DOMAIN, "clicked" as never)).rejects.toMatchObject({ status: 404 });
  });

  it("posts a signed accepted event, equal to the Events API item, once", async () => {
    await mg.webhooks.create(DOMAIN, "accepted", `${receiverUrl}/accepted`, false);
    const before = Math.floor(Date.now() / 1000);
    const sent = await mg.messages.create(DOMAIN, { from: `me@${DOMAIN}`, to: ["bob@example.org"], subject: "Hi", text: "Hello", "o:testmode": true });
    const post = await arrived("/accepted");
    expect(verify(await signingKey(), post.body.signature)).toBe(true);
    expect(verify("key-not-the-one", post.body.signature)).toBe(false);
    expect(post.body.signature.token).toHaveLength(50);
    // Signed when posted: between the send and the post's arrival, whatever the machine's speed.
    const timestamp = Number(post.body.signature.timestamp);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Date.now() / 1000);

    const eventData = post.body["event-data"];
    expect(eventData).toMatchObject({ event: "accepted", recipient: "bob@example.org" });
    expect(`<${eventData.message.headers["message-id"]}>`).toBe(sent.id);
    const events = await mg.events.get(DOMAIN, { event: "accepted" });
    expect(events.items.find((e: any) => e.id === eventData.id)).toEqual(eventData);
    await new Promise((r) => setTimeout(r, 1500));
    expect(received.filter((r) => r.path === "/accepted")).toHaveLength(1);
  });

  it("never follows a receiver's redirect: the test call reports the 302", async () => {
    const tested = (await mg.webhooks.create(DOMAIN, "opened", `${receiverUrl}/moved`, true)) as any;
    expect(tested).toMatchObject({ code: 302 });
    expect(received.map((r) => r.path)).toContain("/moved");
    expect(received.map((r) => r.path)).not.toContain("/moved-to");
  });
});
