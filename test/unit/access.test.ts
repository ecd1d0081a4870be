// The pure side of keys and roles: the access rule, reading a route's `:domain` as its handler
// does, the Keys API's checks and shapes, and the route table's policy (what the issue asks of
// each role), which the generated route × role test in test/integration/route-access.test.ts
// then enforces against the running app.
import { describe, expect, it } from "vitest";
import { ROUTE_ACCESS, routeAccessMarkdown } from "../../src/api/route-access";
import { type Access, mayCall, PRIMARY_PRINCIPAL, type Principal, routeParam } from "../../src/domain/access";
import {
  hashKeySecret,
  KEY_SECRET_PATTERN,
  keyJson,
  MAX_KEY_DESCRIPTION_BYTES,
  MAX_KEY_EXPIRATION_SECONDS,
  newKeySecret,
  parseKeyRequest,
  type StoredKey,
} from "../../src/domain/api-keys";

const who = (role: Principal["role"], domain: string | null = null): Principal => ({ id: "0000aaaa-1111bbbb", role, domain });

describe("mayCall", () => {
  const principals: Record<string, Principal> = {
    primary: PRIMARY_PRINCIPAL,
    admin: who("admin"),
    developer: who("developer"),
    basic: who("basic"),
    "sending d.example": who("sending", "d.example"),
  };
  // Written out by hand, not derived from the code under test.
  const allowed: Record<Access, string[]> = {
    public: ["primary", "admin", "developer", "basic", "sending d.example"],
    basic: ["primary", "admin", "developer", "basic"],
    developer: ["primary", "admin", "developer"],
    admin: ["primary", "admin"],
    sending: ["primary", "admin", "developer", "sending d.example"],
  };
  for (const [access, names] of Object.entries(allowed) as Array<[Access, string[]]>) {
    it(`lets exactly ${names.join(", ")} call a ${access} route of d.example`, () => {
      for (const [name, principal] of Object.entries(principals)) expect(mayCall(access, principal, "d.example"), name).toBe(names.includes(name));
    });
  }

  it("keeps a sending key to its own domain", () => {
    expect(mayCall("sending", who("sending", "d.example"), "e.example")).toBe(false);
    expect(mayCall("sending", who("sending", "d.example"), null)).toBe(false);
    expect(mayCall("sending", who("sending", null), null)).toBe(false);
  });
});

describe("routeParam", () => {
  it("reads :domain from the raw path as Hono hands it to the handler, lowercased", () => {
    expect(routeParam("/v3/:domain/messages", "/v3/D.Example/messages", "domain")).toBe("d.example");
    expect(routeParam("/v3/:domain/messages", "/v3/d%2Eexample/messages", "domain")).toBe("d.example");
    expect(routeParam("/v3/:domain/messages", "/v3/d%ZZexample/messages", "domain")).toBe("d%zzexample");
    expect(routeParam("/v3/:domain/:kind{(?:bounces|complaints)}", "/v3/d.example/bounces", "kind")).toBe("bounces");
    expect(routeParam("/v1/keys", "/v1/keys", "domain")).toBeNull();
  });
});

describe("parseKeyRequest", () => {
  const parse = (fields: Record<string, string>) => parseKeyRequest((name) => (Object.hasOwn(fields, name) ? fields[name] : undefined));

  it("takes Mailgun's fields, kind user by default", () => {
    expect(parse({ role: "basic", description: "reader" })).toEqual({
      role: "basic",
      kind: "user",
      domainName: null,
      description: "reader",
      expirationSeconds: null,
    });
    expect(parse({ role: "sending", kind: "domain", domain_name: " Mail.Example.COM ", expiration: "3600" })).toEqual({
      role: "sending",
      kind: "domain",
      domainName: "mail.example.com",
      description: "",
      expirationSeconds: 3600,
    });
  });

  it("refuses what Mailgun's rules or the limits refuse, saying which field", () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{}, /'role'/],
      [{ role: "support" }, /'role'/],
      [{ role: "basic", kind: "web" }, /'kind'/],
      [{ role: "admin", kind: "domain", domain_name: "d.example" }, /role sending/],
      [{ role: "sending" }, /kind domain/],
      [{ role: "sending", kind: "domain" }, /'domain_name' is required/],
      [{ role: "basic", domain_name: "d.example" }, /'domain_name' is only/],
      [{ role: "basic", expiration: "0" }, /'expiration'/],
      [{ role: "basic", expiration: "1.5" }, /'expiration'/],
      [{ role: "basic", expiration: "-5" }, /'expiration'/],
      [{ role: "basic", expiration: String(MAX_KEY_EXPIRATION_SECONDS + 1) }, /'expiration'/],
      [{ role: "basic", description: "é".repeat(MAX_KEY_DESCRIPTION_BYTES / 2 + 1) }, /'description'/],
    ];
    for (const [fields, message] of cases) expect(parse(fields), JSON.stringify(fields)).toMatch(message);
    expect(typeof parse({ role: "basic", description: "é".repeat(MAX_KEY_DESCRIPTION_BYTES / 2) })).toBe("object");
  });
});

describe("key secrets and shapes", () => {
  it("makes Mailgun-shaped secrets ending in their id, 128 random bits each, and hashes them with SHA-256", async () => {
    const made = Array.from({ length: 50 }, () => newKeySecret());
    for (const { id, secret } of made) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}$/);
      expect(secret).toMatch(KEY_SECRET_PATTERN);
      expect(secret).toMatch(/^[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}$/);
      expect(secret.endsWith(`-${id}`)).toBe(true);
    }
    expect(new Set(made.map((m) => m.secret.slice(0, 32))).size).toBe(50);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(made[0]!.secret)));
    expect(await hashKeySecret(made[0]!.secret)).toBe(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
  });

  it("shows a key as Mailgun does: ISO times without offset, expires_at and disabled_reason only when they apply", () => {
    const key: StoredKey = {
      id: "0000aaaa-1111bbbb",
      role: "sending",
      kind: "domain",
      domainName: "d.example",
      description: "app",
      createdAt: Date.UTC(2026, 0, 23, 10, 16),
      expiresAt: null,
    };
    expect(keyJson(key, Date.UTC(2026, 1, 1))).toEqual({
      id: "0000aaaa-1111bbbb",
      description: "app",
      kind: "domain",
      role: "sending",
      created_at: "2026-01-23T10:16:00",
      updated_at: "2026-01-23T10:16:00",
      is_disabled: false,
      domain_name: "d.example",
      requestor: null,
      user_name: null,
    });
    const expiring = { ...key, expiresAt: Date.UTC(2026, 0, 24) };
    expect(keyJson(expiring, Date.UTC(2026, 0, 23, 23))).toMatchObject({ expires_at: "2026-01-24T00:00:00", is_disabled: false });
    expect(keyJson(expiring, Date.UTC(2026, 0, 24))).toMatchObject({ is_disabled: true, disabled_reason: "expired" });
    expect(JSON.stringify(keyJson(key, 0))).not.toContain("secret");
  });
});

describe("the route table's policy", () => {
  const rules = ROUTE_ACCESS.map((r) => ({ ...r, route: `${r.method} ${r.path}` }));
  const READ_POSTS = ["POST /v1/analytics/logs", "POST /v1/analytics/metrics", "POST /v1/analytics/tags"];

  it("names each route once", () => {
    expect(new Set(rules.map((r) => r.route)).size).toBe(rules.length);
  });

  it("lets a domain sending key call only the two Messages API routes", () => {
    expect(
      rules
        .filter((r) => r.access === "sending")
        .map((r) => r.route)
        .sort(),
    ).toEqual(["POST /v3/:domain/messages", "POST /v3/:domain/messages.mime"]);
  });

  it("keeps the Keys API to admins, and nothing else to admins only", () => {
    expect(
      rules
        .filter((r) => r.access === "admin")
        .map((r) => r.route)
        .sort(),
    ).toEqual(["DELETE /v1/keys/:id", "GET /v1/keys", "POST /v1/keys"]);
  });

  it("gives basic keys reads only: no PUT or DELETE, and only the analytics queries among POSTs", () => {
    const basic = rules.filter((r) => r.access === "basic");
    expect(basic.filter((r) => r.method === "PUT" || r.method === "DELETE")).toEqual([]);
    expect(
      basic
        .filter((r) => r.method === "POST")
        .map((r) => r.route)
        .sort(),
    ).toEqual(READ_POSTS);
  });

  it("lets basic keys read events, logs, stats, tags, metrics, suppressions and domains", () => {
    const basicReads = new Set(rules.filter((r) => r.access === "basic").map((r) => r.route));
    for (const route of [
      "GET /v3/:domain/events",
      "GET /v3/:domain/events/:token",
      "GET /v3/stats/total",
      "GET /v3/:domain/stats/total",
      "GET /v3/:domain/tags",
      "GET /v3/:domain/tags/:tag",
      "GET /v4/domains",
      "GET /v4/domains/:name",
      "GET /v3/domains/:name/tracking",
      ...READ_POSTS,
      "GET /v3/:domain/:kind{(?:bounces|unsubscribes|complaints|whitelists)}",
    ]) {
      expect(basicReads.has(route), route).toBe(true);
    }
  });

  it("prints as a Markdown table with a row per route", () => {
    const markdown = routeAccessMarkdown().split("\n");
    expect(markdown.slice(0, 2)).toEqual(["| Method | Route | Who may call it |", "|---|---|---|"]);
    expect(markdown).toHaveLength(ROUTE_ACCESS.length + 2);
    expect(markdown).toContain("| POST | `/v3/{domain}/messages` | admin, developer, sending key of `{domain}` |");
    expect(markdown).toContain("| GET | `/v3/{domain}/{bounces, unsubscribes, complaints, whitelists}` | admin, developer, basic |");
  });
});
