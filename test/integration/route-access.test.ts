// Every API route × every kind of caller, generated from the route table (src/api/route-access.ts):
// the primary key (API_KEY), admin, developer and basic keys of the Keys API, a sending key of the
// route's domain and one of another domain, no key, a wrong key, an expired key and a deleted key.
// Whoever the table lets in is not answered 401/403; everyone else gets Mailgun's 401 or our 403
// body, and the refused calls, run first with real targets and (for some writes) real bodies,
// change nothing. The table itself is checked against the app's routes, both ways.
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { apiApp } from "../../src/api/app";
import { ROUTE_ACCESS, type RouteRule } from "../../src/api/route-access";
import { insertKey } from "../../src/db/keys";
import type { Access } from "../../src/domain/access";
import { hashKeySecret, MAX_API_KEYS, newKeySecret } from "../../src/domain/api-keys";
import { encodeCursor } from "../../src/domain/cursor";
import { API_KEY, api, BASE, createDomain, form, uniqueDomain } from "../helpers";

const D = uniqueDomain("ra");
const E = uniqueDomain("rb");
const ABSENT = uniqueDomain("absent");
const ABSENT_KEY_ID = "00000000-00000000";
const BOUNCED = "bounced@example.org";

type Caller =
  | "primary"
  | "admin"
  | "developer"
  | "basic"
  | "sending, own domain"
  | "sending, other domain"
  | "no key"
  | "wrong key"
  | "expired key"
  | "deleted key";
const CALLERS: Caller[] = [
  "primary",
  "admin",
  "developer",
  "basic",
  "sending, own domain",
  "sending, other domain",
  "no key",
  "wrong key",
  "expired key",
  "deleted key",
];

/** Who each access level lets in, written out here rather than taken from the code under test. */
const LET_IN: Record<Access, Caller[]> = {
  public: CALLERS,
  basic: ["primary", "admin", "developer", "basic"],
  developer: ["primary", "admin", "developer"],
  admin: ["primary", "admin"],
  sending: ["primary", "admin", "developer", "sending, own domain"],
};
/** Callers whose key does not work at all: Mailgun's 401. The others are refused with 403. */
const UNAUTHENTICATED: Caller[] = ["no key", "wrong key", "expired key", "deleted key"];

const secrets = new Map<Caller, string>();
let victimKeyId = "";

async function makeKey(fields: Record<string, string>): Promise<{ id: string; secret: string }> {
  const response = await api("/v1/keys", { method: "POST", body: form(fields) });
  expect(response.status).toBe(200);
  const { key } = (await response.json()) as { key: { id: string; secret: string } };
  return key;
}

function call(caller: Caller, method: string, path: string, body?: () => BodyInit): Promise<Response> {
  const headers = new Headers();
  const secret = caller === "primary" ? API_KEY : caller === "wrong key" ? "not-a-key-at-all" : secrets.get(caller);
  if (caller !== "no key") headers.set("authorization", `Basic ${btoa(`api:${secret}`)}`);
  return SELF.fetch(`${BASE}${path}`, { method, headers, body: body?.() });
}

/** A request path for the rule: real targets (which a leak would change) or absent ones. */
function pathFor(rule: RouteRule, real: boolean): string {
  const domain = real || rule.access === "sending" ? D : ABSENT;
  const token = encodeCursor({ q: { domain, lo: null, hi: null, ascending: false, limit: 5, filters: {} }, m: "first" });
  if (rule.path.endsWith(":/*")) return `${rule.path.slice(0, -2)}//127.0.0.1/v3/${domain}/events/${token}`;
  const values: Record<string, string> = {
    domain,
    name: domain,
    kind: "bounces",
    address: BOUNCED,
    token,
    tag: "t",
    which: "providers",
    key: "k",
    host: `email.${domain}`,
    id: rule.path.startsWith("/v1/keys") ? (real ? victimKeyId : ABSENT_KEY_ID) : rule.path.includes("dead-letters") ? "dl" : "delivered",
  };
  return rule.path.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => {
    if (!Object.hasOwn(values, name)) throw new Error(`no test value for :${name} in ${rule.path}`);
    return encodeURIComponent(values[name]!);
  });
}

/** Real bodies for some writes, sent by refused callers: a leak would change what fingerprint() reads. */
const LEAK_BODIES: Record<string, () => BodyInit> = {
  "POST /v4/domains": () => form({ name: uniqueDomain("leak") }),
  "PUT /v4/domains/:name": () => form({ retention_days: "3" }),
  "PUT /v3/domains/:name/tracking/open": () => form({ active: "yes" }),
  "POST /v3/:domain/:kind{(?:bounces|unsubscribes|complaints|whitelists)}": () => form({ address: "leak@example.org" }),
  "PUT /v3/domains/:domain/webhooks/:id": () => form({ url: "https://leak.example.org/hook" }),
  "POST /v1/keys": () => form({ role: "admin" }),
};

/** What the refused calls must not change, read with the primary key. */
async function fingerprint(): Promise<string> {
  const reads = [
    "/v4/domains?limit=1000",
    `/v4/domains/${D}`,
    `/v3/domains/${D}/tracking`,
    `/v3/${D}/bounces`,
    `/v3/${D}/unsubscribes`,
    `/v3/${D}/whitelists`,
    `/v3/domains/${D}/webhooks`,
    "/v1/keys",
    "/v5/accounts/http_signing_key",
  ];
  const bodies = await Promise.all(
    reads.map(async (path) => {
      const response = await api(path);
      return `${path} ${response.status} ${await response.text()}`;
    }),
  );
  return bodies.join("\n");
}

beforeAll(async () => {
  await createDomain(D);
  await createDomain(E);
  expect((await api(`/v3/${D}/bounces`, { method: "POST", body: form({ address: BOUNCED, code: "550" }) })).status).toBe(200);
  // A closed local port: the sends below are delivered, and their webhook posts must fail at once,
  // with no DNS lookup of a name this machine cannot resolve (workerd would log each one).
  expect((await api(`/v3/domains/${D}/webhooks/delivered`, { method: "PUT", body: form({ url: "http://127.0.0.1:9/d" }) })).status).toBe(200);
  for (const role of ["admin", "developer", "basic"] as const) secrets.set(role, (await makeKey({ role, description: `route test ${role}` })).secret);
  secrets.set("sending, own domain", (await makeKey({ role: "sending", kind: "domain", domain_name: D })).secret);
  secrets.set("sending, other domain", (await makeKey({ role: "sending", kind: "domain", domain_name: E })).secret);
  victimKeyId = (await makeKey({ role: "basic", description: "must survive refused deletes" })).id;
  const deleted = await makeKey({ role: "admin" });
  expect((await api(`/v1/keys/${deleted.id}`, { method: "DELETE" })).status).toBe(200);
  secrets.set("deleted key", deleted.secret);
  // An admin key that expired a second ago, stored as the API would have stored it.
  const expired = newKeySecret();
  const now = Date.now();
  await insertKey(
    env.DB,
    { id: expired.id, role: "admin", kind: "user", domainName: null, description: "expired", createdAt: now - 60_000, expiresAt: now - 1_000 },
    await hashKeySecret(expired.secret),
    MAX_API_KEYS,
  );
  secrets.set("expired key", expired.secret);
});

describe("the route table covers the app", () => {
  it("has exactly one rule for each route of the API app, and no rule for a route that does not exist", () => {
    const routes = apiApp.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`);
    const rules = ROUTE_ACCESS.map((r) => `${r.method} ${r.path}`);
    expect(
      routes.filter((r) => !rules.includes(r)),
      "routes missing from the table",
    ).toEqual([]);
    expect(
      rules.filter((r) => !routes.includes(r)),
      "rules naming no route",
    ).toEqual([]);
    expect(new Set(rules).size).toBe(rules.length);
  });

  it("puts every request through the table: no middleware but the one on every path", () => {
    expect(apiApp.routes.filter((r) => r.method === "ALL").map((r) => r.path)).toEqual(["/*"]);
  });
});

describe("every route × every caller (generated from the table)", () => {
  let before = "";

  it("reads what refused calls must leave alone", async () => {
    before = await fingerprint();
    expect(before).toContain(BOUNCED);
    expect(before).toContain(victimKeyId);
  });

  for (const rule of ROUTE_ACCESS) {
    const refused = CALLERS.filter((caller) => !LET_IN[rule.access].includes(caller));
    if (refused.length === 0) continue;
    it(`refuses ${refused.join(", ")} on ${rule.method} ${rule.path}`, async () => {
      const answers = await Promise.all(refused.map((caller) => call(caller, rule.method, pathFor(rule, true), LEAK_BODIES[`${rule.method} ${rule.path}`])));
      for (const [i, response] of answers.entries()) {
        const caller = refused[i]!;
        const unauthenticated = UNAUTHENTICATED.includes(caller);
        expect(response.status, caller).toBe(unauthenticated ? 401 : 403);
        expect(await response.json(), caller).toEqual({ message: unauthenticated ? "Invalid private key" : "Forbidden" });
      }
    });
  }

  it("changed nothing with the refused calls", async () => {
    expect(await fingerprint()).toBe(before);
  });

  for (const rule of ROUTE_ACCESS) {
    it(`lets ${LET_IN[rule.access].join(", ")} through on ${rule.method} ${rule.path}`, async () => {
      const answers = await Promise.all(LET_IN[rule.access].map((caller) => call(caller, rule.method, pathFor(rule, false))));
      for (const [i, response] of answers.entries()) {
        expect([401, 403], `${LET_IN[rule.access][i]}: ${response.status} ${await response.text()}`).not.toContain(response.status);
      }
    });
  }
});

describe("how requests are matched against the table", () => {
  it("judges HEAD as the GET it runs", async () => {
    expect((await call("basic", "HEAD", `/v3/${D}/events`)).status).toBe(200);
    expect((await call("sending, own domain", "HEAD", `/v3/${D}/events`)).status).toBe(403);
  });

  it("reads a sending key's domain as the Messages API does: any case, percent-encoded or not", async () => {
    for (const written of [D.toUpperCase(), D.replaceAll(".", "%2E")]) {
      const response = await call("sending, own domain", "POST", `/v3/${written}/messages`, () =>
        form({ from: `a@${D}`, to: "r@example.org", subject: "s", text: "t", "o:testmode": "yes" }),
      );
      expect(response.status, written).toBe(200);
    }
  });

  it("answers 404 on a path no route serves, key or not", async () => {
    for (const caller of ["no key", "wrong key", "sending, own domain"] as const) {
      const response = await call(caller, "GET", "/v3/nothing/here/at/all");
      expect(response.status, caller).toBe(404);
      expect(await response.json(), caller).toEqual({ message: "Not found" });
    }
  });

  it("keeps the embedded paging links of the Events API behind a key (they were served to anyone)", async () => {
    const rule = ROUTE_ACCESS.find((r) => r.path === "/v3http:/*")!;
    const response = await call("no key", "GET", pathFor(rule, true));
    expect(response.status).toBe(401);
    expect((await call("basic", "GET", pathFor(rule, true))).status).toBe(200);
  });
});
