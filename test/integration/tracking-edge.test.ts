// The tracking hot path through the whole Worker: answers, tokens, unsubscribe GET vs POST, and
// the proof that no storage is touched before the answer.
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signToken, type TokenPayload } from "../../src/domain/token";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { apiWith, createDomain, everyPartition, linksIn, prepare, uniqueDomain } from "../helpers";
import { signReferenceToken } from "../support/signed-token";

/** Storage bindings that throw on any use, and a queue that records what it is sent. */
function isolatedEnv() {
  const sent: any[] = [];
  const explode = new Proxy(
    {},
    {
      get(_target, property) {
        throw new Error(`storage touched on the hot path: ${String(property)}`);
      },
    },
  );
  const hotEnv = {
    ...(env as unknown as Env),
    DB: explode as D1Database,
    DOMAIN_STATE: explode as Env["DOMAIN_STATE"],
    ...everyPartition("events", { send: async (body: unknown) => void sent.push(body), sendBatch: async () => {} }),
  };
  return { hotEnv, sent };
}

async function hit(url: string, hotEnv: Env, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(url, init) as Request<unknown, IncomingRequestCfProperties>, hotEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function token(overrides: Partial<TokenPayload>): Promise<string> {
  return signToken(
    {
      kind: "click",
      version: 1,
      issuedAt: Math.floor(Date.now() / 1000) - 3600,
      webPrefix: "email",
      domain: "edge.example.com",
      messageId: "m@edge.example.com",
      recipient: "r@example.org",
      url: "https://example.org/landing",
      ...overrides,
    },
    "test-tracking-secret",
  );
}

describe("tracking edge", () => {
  it("answers pixel, click and unsubscribe with D1 and the Durable Object throwing", async () => {
    const domain = uniqueDomain("hot");
    await createDomain(domain, { open: true, click: "yes", unsubscribe: true });
    const prepared = await prepare({
      domain,
      message_id: "hot-1@x",
      recipient: "Ann@Example.org",
      html: '<body><a href="https://example.org/x">x</a></body>',
      text: "hi",
    });
    const links = linksIn(prepared.html!);
    const { hotEnv, sent } = isolatedEnv();

    const pixel = await hit(links.open[0]!, hotEnv);
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get("content-type")).toBe("image/gif");
    expect(pixel.headers.get("cache-control")).toContain("no-store");
    const gif = new Uint8Array(await pixel.arrayBuffer());
    expect(gif.length).toBe(43);
    expect(new TextDecoder().decode(gif.subarray(0, 6))).toBe("GIF89a");

    const click = await hit(links.click[0]!, hotEnv, { redirect: "manual" });
    expect(click.status).toBe(302);
    expect(click.headers.get("location")).toBe("https://example.org/x");
    // No freshness information: a 302 without it is never cached (RFC 9111 4.2.2).
    expect(click.headers.get("cache-control")).toBeNull();
    expect(click.headers.get("expires")).toBeNull();

    const confirm = await hit(links.unsubscribe[0]!, hotEnv);
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('<form method="post"');
    const done = await hit(links.unsubscribe[0]!, hotEnv, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("unsubscribed");

    // Three hits went to the queue (the GET of the unsubscribe page is not one of them).
    expect(sent.map((m) => m.event)).toEqual(["opened", "clicked", "unsubscribed"]);
    expect(sent[0]).toMatchObject({ type: "hit", domain, messageId: "hot-1@x", recipient: "Ann@Example.org", method: "GET" });
    expect(sent[1].url).toBe("https://example.org/x");
    expect(sent[2].scope).toBe("domain");
    // The edge names no event id: the consumer derives it from the queue message's id.
    expect(sent.every((m) => m.id === undefined)).toBe(true);
  });

  it("makes sealed links that show no recipient, Message-ID, URL or domain by default, and signed links with TRACKING_TOKEN_FORMAT=signed", async () => {
    const domain = uniqueDomain("private");
    await createDomain(domain, { open: true, click: "yes", unsubscribe: true });
    const fields = { recipient: "ann.private@example.org", messageId: "private-message-1@example.net", url: "https://example.org/private/landing-page" };
    const body = { domain, message_id: fields.messageId, recipient: fields.recipient, html: `<body><a href="${fields.url}">x</a></body>`, text: "hi" };
    const prepareAs = async (format: string | undefined) => {
      const response = await apiWith({ ...env, TRACKING_TOKEN_FORMAT: format } as unknown as Env, "/v1/tracking/prepare", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      const links = linksIn(((await response.json()) as { html: string }).html);
      const tokens = [...links.open, ...links.click, ...links.unsubscribe].map((link) => link.slice(link.lastIndexOf("/") + 1));
      expect(tokens).toHaveLength(3);
      return { links, tokens };
    };
    /** Whether a field is in a token: as bytes, or as base64url text at any alignment. */
    const shows = (token: string, field: string) => {
      const bytes = new TextEncoder().encode(field);
      const encoded = [0, 1, 2].map((offset) =>
        new Uint8Array([...new Uint8Array(offset), ...bytes]).toBase64({ alphabet: "base64url", omitPadding: true }).slice(offset ? 4 : 0, -4),
      );
      return String.fromCharCode(...Uint8Array.fromBase64(token, { alphabet: "base64url" })).includes(field) || encoded.some((text) => token.includes(text));
    };
    const isSealed = (token: string) => (Uint8Array.fromBase64(token, { alphabet: "base64url" })[1]! & 0x40) !== 0;

    // The default (wrangler.toml says "sealed"; unset means the same) makes sealed links.
    expect(env.TRACKING_TOKEN_FORMAT).toBe("sealed");
    for (const format of ["sealed", undefined, env.TRACKING_TOKEN_FORMAT]) {
      for (const token of (await prepareAs(format)).tokens) {
        expect(isSealed(token)).toBe(true);
        for (const field of [fields.recipient, fields.messageId, fields.url, domain]) expect(shows(token, field), field).toBe(false);
      }
    }
    const sealed = await prepareAs(undefined);
    // Signed links, when asked for, show them.
    const signed = await prepareAs("signed");
    for (const token of signed.tokens) expect([isSealed(token), shows(token, fields.recipient), shows(token, fields.messageId)]).toEqual([false, true, true]);
    expect(shows(signed.tokens[1]!, fields.url)).toBe(true);

    // The edge honours both, whatever the setting: links already sent keep working after a switch.
    for (const [links, edgeFormat] of [
      [sealed.links, "signed"],
      [(await prepareAs("signed")).links, "sealed"],
    ] as const) {
      const { hotEnv, sent } = isolatedEnv();
      const edgeEnv = { ...hotEnv, TRACKING_TOKEN_FORMAT: edgeFormat };
      const click = await hit(links.click[0]!, edgeEnv, { redirect: "manual" });
      expect(click.headers.get("location")).toBe(fields.url);
      expect((await hit(links.open[0]!, edgeEnv)).headers.get("content-type")).toBe("image/gif");
      expect((await hit(links.unsubscribe[0]!, edgeEnv)).status).toBe(200);
      expect(sent.map((m) => [m.event, m.domain, m.messageId, m.recipient])).toEqual([
        ["clicked", domain, fields.messageId, fields.recipient],
        ["opened", domain, fields.messageId, fields.recipient],
      ]);
    }
  });

  it("honours signed links, byte for byte as they were always made, and sealed ones, while their key version's secret is configured", async () => {
    const { hotEnv, sent } = isolatedEnv();
    const payload: TokenPayload = {
      kind: "click",
      version: 1,
      issuedAt: Math.floor(Date.now() / 1000) - 3600,
      webPrefix: "email",
      domain: "legacy.example.com",
      messageId: "old@legacy.example.com",
      recipient: "r@example.org",
      url: "https://example.org/old",
    };
    const current = await signReferenceToken(payload, "test-tracking-secret");
    const previous = await signReferenceToken({ ...payload, version: 7 }, "retired-secret"); // TRACKING_SECRETS_PREVIOUS lists 7
    const sealedPrevious = await signToken({ ...payload, version: 7 }, "retired-secret", "sealed");
    for (const token of [current, previous, sealedPrevious]) {
      const response = await hit(`http://127.0.0.1/c/${token}`, hotEnv, { redirect: "manual" });
      expect([response.status, response.headers.get("location")]).toEqual([302, "https://example.org/old"]);
    }
    const pixel = await hit(`http://127.0.0.1/o/${await signReferenceToken({ ...payload, kind: "open", url: "" }, "test-tracking-secret")}`, hotEnv);
    expect(pixel.headers.get("content-type")).toBe("image/gif");
    expect(sent.map((m) => [m.event, m.recipient, m.messageId])).toEqual([
      ["clicked", "r@example.org", "old@legacy.example.com"],
      ["clicked", "r@example.org", "old@legacy.example.com"],
      ["clicked", "r@example.org", "old@legacy.example.com"],
      ["opened", "r@example.org", "old@legacy.example.com"],
    ]);
    // Version 7 retired: its links, of either format, answer "not valid" and record nothing.
    for (const token of [previous, sealedPrevious]) {
      const retired = await hit(`http://127.0.0.1/c/${token}`, { ...hotEnv, TRACKING_SECRETS_PREVIOUS: "" }, { redirect: "manual" });
      expect([retired.status, retired.headers.get("location")]).toEqual([404, null]);
    }
    expect(sent).toHaveLength(4);
  });

  it("always answers the pixel, but queues nothing for a bad token", async () => {
    const { hotEnv, sent } = isolatedEnv();
    for (const path of ["/o/", "/o/garbage", `/o/${(await token({ kind: "open", url: "" })).slice(0, -3)}`, `/o/${await token({})}`]) {
      const response = await hit(`http://127.0.0.1${path}`, hotEnv);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/gif");
    }
    expect(sent).toEqual([]);
  });

  it("never redirects a tampered, truncated, foreign or wrong-kind click token", async () => {
    const { hotEnv, sent } = isolatedEnv();
    const good = await token({});
    const tampered = good.slice(0, 20) + (good[20] === "A" ? "B" : "A") + good.slice(21);
    const forged = await signToken(
      { kind: "click", version: 1, issuedAt: 0, webPrefix: "email", domain: "edge.example.com", messageId: "m", recipient: "r@x", url: "https://evil.example" },
      "not-our-secret",
    );
    const openToken = await token({ kind: "open", url: "" });
    for (const url of [
      `http://127.0.0.1/c/${tampered}`,
      `http://127.0.0.1/c/${good.slice(0, -5)}`,
      `http://127.0.0.1/c/${forged}`,
      `http://127.0.0.1/c/${openToken}`,
      // A valid token on another domain's tracking host.
      `http://email.other.example/c/${good}`,
    ]) {
      const response = await hit(url, hotEnv, { redirect: "manual" });
      expect(response.status).toBe(404);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.text()).toContain("not valid");
    }
    expect(sent).toEqual([]);
    // The same token is honoured on its own tracking host and on a shared host.
    for (const host of ["email.edge.example.com", "shared.test"]) {
      const ok = await hit(`https://${host}/c/${good}`, hotEnv, { redirect: "manual" });
      expect(ok.headers.get("location")).toBe("https://example.org/landing");
    }
    expect(sent).toHaveLength(2);
  });

  it("answers a signed destination that cannot be a Location with the not-valid page, and records no click", async () => {
    const { hotEnv, sent } = isolatedEnv();
    // Tokens like those prepare signed before it refused such links.
    for (const url of ["https://example.org/a\nb", "https://example.org/a\r\nX-Injected: 1", "https://example.org/a\u0000b"]) {
      const response = await hit(`http://127.0.0.1/c/${await token({ url })}`, hotEnv, { redirect: "manual" });
      expect(response.status).toBe(404);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.text()).toContain("not valid");
    }
    expect(sent).toEqual([]);
    // A fallback setting that cannot be a Location gives the same page, not an error.
    const fallback = await hit("http://127.0.0.1/c/broken", { ...hotEnv, CLICK_FALLBACK_URL: "https://example.com/\r\nx" }, { redirect: "manual" });
    expect([fallback.status, fallback.headers.get("location")]).toEqual([404, null]);
  });

  it("reads nothing from a pixel token before it verifies: an invalid https token gets the GIF, an authentic one goes to https", async () => {
    const { hotEnv, sent } = isolatedEnv();
    const domain = uniqueDomain("px"); // a domain this isolate has no key for yet
    const https = await token({ kind: "open", url: "", domain, https: true });
    const at = https.length - 10; // inside the authentication tag
    const tampered = https.slice(0, at) + (https[at] === "A" ? "B" : "A") + https.slice(at + 1);
    const forged = await signToken(
      { kind: "open", version: 1, issuedAt: 0, webPrefix: "email", domain, messageId: "m", recipient: "r@x", url: "", https: true },
      "not-our-secret",
    );
    for (const url of [`http://email.${domain}/o/${tampered}`, `http://email.${domain}/o/${forged}`, `http://email.other.example/o/${https}`]) {
      const response = await hit(url, hotEnv, { redirect: "manual" });
      expect([response.status, response.headers.get("content-type"), response.headers.get("location")]).toEqual([200, "image/gif", null]);
    }
    // The authentic token: on its domain's first hit in this isolate (the key is derived first) and after.
    for (let i = 0; i < 2; i++) {
      const response = await hit(`http://email.${domain}/o/${https}`, hotEnv, { redirect: "manual" });
      expect([response.status, response.headers.get("location")]).toEqual([301, `https://email.${domain}/o/${https}`]);
    }
    expect(sent).toEqual([]); // the https request records the open
    const invalidClick = await hit(`http://email.${domain}/c/${tampered}`, hotEnv, { redirect: "manual" });
    expect([invalidClick.status, invalidClick.headers.get("location")]).toEqual([404, null]);
  });

  it("tells the browser to send no Referer from a click redirect, the unsubscribe pages and the not-valid page", async () => {
    const { hotEnv } = isolatedEnv();
    const unsubscribe = `http://127.0.0.1/u/${await token({ kind: "unsubscribe", url: "" })}`;
    const answers = {
      click: await hit(`http://127.0.0.1/c/${await token({})}`, hotEnv, { redirect: "manual" }),
      fallback: await hit("http://127.0.0.1/c/broken", { ...hotEnv, CLICK_FALLBACK_URL: "https://example.com/oops" }, { redirect: "manual" }),
      confirm: await hit(unsubscribe, hotEnv),
      unsubscribed: await hit(unsubscribe, hotEnv, { method: "POST", body: "" }),
      invalidClick: await hit("http://127.0.0.1/c/broken", hotEnv, { redirect: "manual" }),
      invalidUnsubscribe: await hit("http://127.0.0.1/u/broken", hotEnv),
    };
    expect(Object.values(answers).map((r) => r.status)).toEqual([302, 302, 200, 200, 404, 404]);
    for (const [name, response] of Object.entries(answers)) expect(response.headers.get("referrer-policy"), name).toBe("no-referrer");
  });

  it("sends invalid clicks to the configured fallback", async () => {
    const { hotEnv } = isolatedEnv();
    const response = await hit("http://127.0.0.1/c/broken", { ...hotEnv, CLICK_FALLBACK_URL: "https://example.com/oops" }, { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("https://example.com/oops");
  });

  it("marks tag unsubscribe links and HEAD requests", async () => {
    const { hotEnv, sent } = isolatedEnv();
    await hit(`http://127.0.0.1/u/${await token({ kind: "tag-unsubscribe", url: "" })}`, hotEnv, { method: "POST", body: "" });
    await hit(`http://127.0.0.1/o/${await token({ kind: "open", url: "" })}`, hotEnv, { method: "HEAD" });
    expect(sent.map((m) => [m.event, m.scope ?? null, m.method])).toEqual([
      ["unsubscribed", "tags", "POST"],
      ["opened", null, "HEAD"],
    ]);
  });

  it("answers the API on unknown paths with a JSON 404, not an edge page", async () => {
    const response = await SELF.fetch("http://127.0.0.1/nope");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: "Not found" });
  });
});
