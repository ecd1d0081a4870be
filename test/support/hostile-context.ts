// What the bad-input cases need to reach deep into each route (hostile-routes.ts): a domain with
// tracking on and its tokens, a domain the cases may spoil, a stored message, an events page token,
// a panel session and its CSRF token. Made through the API by the test and by the benchmark alike.
import type { Env } from "../../src/env";
import { csrfToken, newSessionCookieValue, readSession, SESSION_COOKIE } from "../../src/panel/session";
import type { HostileContext } from "./hostile-routes";
import { partitionsAs } from "./partitions";

/** An authenticated API call to the Worker under test, optionally with other bindings. */
export type ApiCaller = (path: string, init?: RequestInit, env?: Env) => Promise<Response>;

const lastSegment = (url: string) => url.slice(url.lastIndexOf("/") + 1);
const tokenIn = (html: string, kind: string) => new RegExp(`/${kind}/([A-Za-z0-9_-]+)`).exec(html)?.[1];

async function ok(response: Response, what: string): Promise<Response> {
  if (response.status !== 200) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

export async function makeHostileContext(call: ApiCaller, env: Env, apiKey: string, names: { domain: string; victim: string }): Promise<HostileContext> {
  const { domain, victim } = names;
  const put = (path: string, fields: Record<string, string>) => call(path, { method: "PUT", body: new URLSearchParams(fields) });
  for (const name of [domain, victim]) await ok(await call("/v4/domains", { method: "POST", body: new URLSearchParams({ name }) }), "create domain");
  await ok(await put(`/v3/domains/${domain}/tracking/open`, { active: "yes" }), "tracking");
  await ok(await put(`/v3/domains/${domain}/tracking/click`, { active: "yes" }), "tracking");
  await ok(await put(`/v3/domains/${domain}/tracking/unsubscribe`, { active: "yes" }), "tracking");

  const prepared = await ok(
    await call("/v1/tracking/prepare", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        domain,
        message_id: "hostile-context@x",
        recipient: "reader@example.org",
        html: '<p><a href="https://example.org/x">x</a> %unsubscribe_url%</p>',
      }),
    }),
    "prepare",
  );
  const html = ((await prepared.json()) as { html: string }).html;

  // A stored message: the compose pack a send queues says where it is kept. The queues only record.
  const sent: Array<{ type?: string; v?: number; storage?: { key?: string } }> = [];
  const recorder = {
    send: async (body: never) => void sent.push(body),
    sendBatch: async (batch: Array<{ body: never }>) => void sent.push(...batch.map((m) => m.body)),
  };
  const recording = { ...env, EVENTS: recorder, DELIVERY: recorder } as unknown as Env;
  const message = new URLSearchParams({ from: `me@${domain}`, to: "reader@example.org", subject: "Kept", text: "Kept", "o:testmode": "yes" });
  await ok(await call(`/v3/${domain}/messages`, { method: "POST", body: message }, recording), "send");
  const storedKey = sent.find((m) => m.type === "delivery" && m.v === 3)?.storage?.key;
  if (!storedKey) throw new Error("the send queued no compose pack with a storage key");

  const signedLinks = await signHostileLinks(call, domain);
  const page = (await (await ok(await call(`/v3/${domain}/events?limit=1`), "events")).json()) as { paging: { next: string } };
  const cookie = await newSessionCookieValue(apiKey, Date.now());
  const session = (await readSession(apiKey, cookie, Date.now()))!;
  const [open, click, unsubscribe] = ["o", "c", "u"].map((kind) => tokenIn(html, kind));
  if (!open || !click || !unsubscribe) throw new Error(`prepare made no open, click and unsubscribe links: ${html}`);
  return {
    domain,
    victim,
    tokens: { open, click, unsubscribe },
    signedLinks,
    storedKey,
    eventsToken: lastSegment(page.paging.next),
    session: { cookie: `${SESSION_COOKIE}=${cookie}`, csrf: await csrfToken(apiKey, session) },
  };
}

/** Links no tracked link may lead to as they are: each prepared alone, its click token kept if prepare signed it. */
const HOSTILE_HREFS: Array<[string, string]> = [
  ["&#10; in the href", "https://example.org/a&#10;b"],
  ["&#13;&#10; and a header in the href", "https://example.org/a&#13;&#10;X-Injected: yes"],
  ["&#0; in the href", "https://example.org/a&#0;b"],
  ["1,500 non-ASCII characters in the href", `https://example.org/${"é".repeat(1500)}`],
  ["a javascript: href", "javascript:alert(1)"],
];

async function signHostileLinks(call: ApiCaller, domain: string): Promise<Array<{ name: string; token: string }>> {
  const signed: Array<{ name: string; token: string }> = [];
  for (const [i, [name, href]] of HOSTILE_HREFS.entries()) {
    const response = await call("/v1/tracking/prepare", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ domain, message_id: `hostile-link-${i}@x`, recipient: "reader@example.org", html: `<p><a href="${href}">x</a></p>` }),
    });
    if (response.status !== 200) continue; // refused whole: nothing signed
    const token = tokenIn(((await response.json()) as { html: string }).html, "c");
    if (token) signed.push({ name, token });
  }
  return signed;
}

/** Cloudflare Queues' limits, which the sink below holds producers to. Units: bytes, messages. */
const QUEUE_MESSAGE_BYTES = 128 * 1024;
const QUEUE_BATCH_BYTES = 256 * 1024;
const QUEUE_BATCH_MESSAGES = 100;
const bytesOf = (body: unknown) => new TextEncoder().encode(JSON.stringify(body) ?? "").length;

/**
 * A queue producer that keeps nothing but refuses what Cloudflare Queues refuses (a message over
 * 128 KB, a batch over 100 messages or 256 KB), as the real binding would throw. The bad-input
 * cases send through it instead of the local queue, so that their thousands of accepted
 * recipients leave no consumer work behind to run into the next test file (the workers project
 * shares one workerd between files) and the suite stays quick.
 */
export function queueSink(): Queue<unknown> {
  const check = (body: unknown) => {
    if (bytesOf(body) > QUEUE_MESSAGE_BYTES) throw new Error(`Queue send failed: message too large (over ${QUEUE_MESSAGE_BYTES} bytes)`);
  };
  return {
    send: async (body: unknown) => check(body),
    sendBatch: async (batch: Iterable<MessageSendRequest<unknown>>) => {
      const messages = [...batch];
      if (messages.length > QUEUE_BATCH_MESSAGES) throw new Error(`Queue sendBatch failed: more than ${QUEUE_BATCH_MESSAGES} messages`);
      messages.forEach((m) => check(m.body));
      if (messages.reduce((n, m) => n + bytesOf(m.body), 0) > QUEUE_BATCH_BYTES)
        throw new Error(`Queue sendBatch failed: batch over ${QUEUE_BATCH_BYTES} bytes`);
    },
  } as unknown as Queue<unknown>;
}

/** The Worker's bindings with every queue producer a sink. */
export function withQueueSinks(env: Env): Env {
  return {
    ...env,
    ...partitionsAs(env, "events", queueSink()),
    EVENTS_DLQ: queueSink(),
    DELIVERY: queueSink(),
    ...partitionsAs(env, "webhooks", queueSink()),
  } as Env;
}

/** The Request of a case, with the credentials it asks for; redirects are never followed. */
export function hostileRequest(
  c: { method: string; url: string; host: string; headers: Record<string, string>; body?: string; auth: string },
  ctx: HostileContext,
  apiKey: string,
): Request {
  const headers = new Headers(c.headers);
  if (c.auth === "api") headers.set("authorization", `Basic ${btoa(`api:${apiKey}`)}`);
  if (c.auth === "session") headers.set("cookie", ctx.session.cookie);
  const body = c.method === "GET" || c.method === "HEAD" ? undefined : c.body;
  return new Request(`http://${c.host}${c.url}`, { method: c.method, headers, body, redirect: "manual" });
}
