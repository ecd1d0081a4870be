// npm start's parts (src/tools/start-vars.mjs, start-output.mjs, migrate-local.mjs): what it
// records in .dev.vars, which variables reach the Worker, how it migrates every local database,
// and how it shortens wrangler's output. The fixtures are wrangler 4's real output (test/node/fixtures).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { localDatabases } from "../../src/tools/migrate-local.mjs";
import { plain, wranglerOutputFilter } from "../../src/tools/start-output.mjs";
import { devVarsToRecord, formatDevVar, isWorkerSetting, parseDevVars, workerVars } from "../../src/tools/start-vars.mjs";
import { WRANGLER_OFFLINE } from "../../src/tools/wrangler-offline.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8");
const secrets = () => {
  let n = 0;
  return () => `secret-${++n}`;
};

describe(".dev.vars", () => {
  it("reads the dotenv forms wrangler reads", () => {
    const vars = parseDevVars(
      ["# a comment", 'API_KEY="abc"', "SMTP_RELAY_USER='o\"brien'", "PLAIN = some value # note", "export X=`a'b\"c`", 'NL="a\\nb"', "bad line", "EMPTY="].join(
        "\n",
      ),
    );
    expect(Object.fromEntries(vars)).toEqual({ API_KEY: "abc", SMTP_RELAY_USER: 'o"brien', PLAIN: "some value", X: "a'b\"c", NL: "a\nb", EMPTY: "" });
  });

  it("writes lines it reads back as written", () => {
    for (const value of ["plain", 'with "double"', "with 'single' and \"double\"", "back\\slash", "", "a # not a comment"]) {
      expect(parseDevVars(formatDevVar("V", value)).get("V")).toBe(value);
    }
    expect(() => formatDevVar("V", "a\n'\"`")).toThrow(/line break/);
    expect(() => formatDevVar("not a name", "x")).toThrow();
  });

  it("records the mailbox ports the environment chose, not the defaults", () => {
    const recorded = devVarsToRecord({
      devVars: new Map(),
      env: { MAILBOX_SMTP_PORT: "2599", MAILBOX_HTTP_PORT: "8099" },
      useMailbox: true,
      newSecret: secrets(),
    });
    expect(Object.fromEntries(recorded)).toEqual({ API_KEY: "secret-1", TRACKING_SECRET: "secret-2", MAILBOX_SMTP_PORT: "2599", MAILBOX_HTTP_PORT: "8099" });
  });

  it("records defaults and new secrets only for what is missing, and the environment's secret when set", () => {
    const devVars = new Map([
      ["TRACKING_SECRET", "kept"],
      ["MAILBOX_HTTP_PORT", "9000"],
    ]);
    const recorded = devVarsToRecord({ devVars, env: { API_KEY: "from-env" }, useMailbox: true, newSecret: secrets() });
    expect(Object.fromEntries(recorded)).toEqual({ API_KEY: "from-env", MAILBOX_SMTP_PORT: "2525" });
    const withRelay = devVarsToRecord({
      devVars: new Map([
        ["API_KEY", "k"],
        ["TRACKING_SECRET", "t"],
      ]),
      env: {},
      useMailbox: false,
      newSecret: secrets(),
    });
    expect(withRelay.size).toBe(0);
  });
});

describe("the Worker's variables", () => {
  const devVars = new Map([
    ["API_KEY", "dev-key"],
    ["TRACKING_SECRET", "dev-secret"],
    ["MAILBOX_SMTP_PORT", "2599"],
    ["MAILBOX_HTTP_PORT", "8099"],
    ["MAILBOX_DIR", "/tmp/mail"],
    ["TIDINGS_DNS_CHECKS", "0"],
    ["CLICK_FALLBACK_URL", "https://example.org/"],
  ]);

  it("holds none of npm start's own settings", () => {
    const vars = workerVars({ devVars, env: { PORT: "8799", MAILBOX_SMTP_PORT: "2600" }, port: "8799", mailboxSmtpPort: 2600 });
    expect([...vars.keys()].filter((name) => name.startsWith("MAILBOX_") || name.startsWith("TIDINGS_") || name === "PORT")).toEqual([]);
    expect(Object.fromEntries(vars)).toEqual({
      API_KEY: "dev-key",
      TRACKING_SECRET: "dev-secret",
      CLICK_FALLBACK_URL: "https://example.org/",
      SMTP_RELAY_HOST: "127.0.0.1",
      SMTP_RELAY_PORT: "2600",
      SMTP_RELAY_SECURITY: "none",
      TRACKING_LINK_BASE: "http://127.0.0.1:8799",
      WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      DNS_RESOLVER_URL: "",
    });
    expect(["PORT", "MAILBOX_SMTP_PORT", "TIDINGS_DNS_CHECKS"].some(isWorkerSetting)).toBe(false);
    expect(isWorkerSetting("SMTP_RELAY_HOST")).toBe(true);
  });

  it("takes secrets and relay settings from the environment over .dev.vars", () => {
    const relay = new Map([...devVars, ["SMTP_RELAY_HOST", "smtp.dev.example"], ["SMTP_RELAY_USER", "dev-user"]]);
    const vars = workerVars({ devVars: relay, env: { API_KEY: "env-key", SMTP_RELAY_HOST: "smtp.env.example", SMTP_RELAY_PASSWORD: "pw" }, port: "8787" });
    expect(vars.get("API_KEY")).toBe("env-key");
    expect(vars.get("SMTP_RELAY_HOST")).toBe("smtp.env.example");
    expect(vars.get("SMTP_RELAY_USER")).toBe("dev-user");
    expect(vars.get("SMTP_RELAY_PASSWORD")).toBe("pw");
    expect(vars.has("SMTP_RELAY_SECURITY")).toBe(false);
  });

  it("turns DNS checks off unless asked for or given a resolver", () => {
    expect(workerVars({ devVars: new Map(), env: {}, port: "8787" }).get("DNS_RESOLVER_URL")).toBe("");
    // Asked: wrangler.toml's resolver stays (the variable is not overridden).
    expect(workerVars({ devVars: new Map(), env: { TIDINGS_DNS_CHECKS: "1" }, port: "8787" }).has("DNS_RESOLVER_URL")).toBe(false);
    expect(workerVars({ devVars: new Map([["TIDINGS_DNS_CHECKS", "1"]]), env: {}, port: "8787" }).has("DNS_RESOLVER_URL")).toBe(false);
    const resolver = "http://127.0.0.1:5353/dns-query";
    expect(workerVars({ devVars: new Map(), env: { DNS_RESOLVER_URL: resolver }, port: "8787" }).get("DNS_RESOLVER_URL")).toBe(resolver);
    expect(workerVars({ devVars: new Map([["DNS_RESOLVER_URL", resolver]]), env: {}, port: "8787" }).get("DNS_RESOLVER_URL")).toBe(resolver);
  });
});

describe("wrangler's output", () => {
  it("applies every database's migrations once, in wrangler's bookkeeping, and sums them up in one line", async () => {
    const state = mkdtempSync(path.join(tmpdir(), "tidings-migrate-"));
    try {
      const run = () =>
        execFileSync(process.execPath, [path.join(root, "src/tools/migrate-local.mjs"), "--persist-to", state], {
          cwd: root,
          env: { ...process.env, ...WRANGLER_OFFLINE },
          stdio: "pipe",
        })
          .toString()
          .trim()
          .split("\n")
          .at(-1);
      const controls = readdirSync(path.join(root, "migrations")).filter((name) => name.endsWith(".sql")).length;
      const events = readdirSync(path.join(root, "migrations-events")).filter((name) => name.endsWith(".sql")).length;
      const stats = readdirSync(path.join(root, "migrations-stats")).filter((name) => name.endsWith(".sql")).length;
      const keys = readdirSync(path.join(root, "migrations-keys")).filter((name) => name.endsWith(".sql")).length;
      const plural = (n: number) => `${n} migration${n === 1 ? "" : "s"}`;
      expect(run()).toBe(
        `database: ${controls} migrations applied (${controls} new); 64 event shards: ${plural(events)} each (${64 * events} new); ` +
          `2 stats databases: ${plural(stats)} each (${2 * stats} new); 2 key databases: ${plural(keys)} each (${2 * keys} new)`,
      );
      expect(run()).toMatch(/\(0 new\); 64 event shards: .* \(0 new\); 2 stats databases: .* \(0 new\); 2 key databases: .* \(0 new\)$/);
      // Recorded in wrangler's own table, so `wrangler d1 migrations apply <binding> --local` agrees.
      const local = await localDatabases(state);
      try {
        const db = local.env.EV_S7_K1 as { prepare(sql: string): { all(): Promise<{ results: Array<{ name: string }> }> } };
        const names = (await db.prepare("SELECT name FROM d1_migrations ORDER BY id").all()).results.map((row) => row.name);
        expect(names).toEqual(readdirSync(path.join(root, "migrations-events")).filter((name) => name.endsWith(".sql")));
        const statsDb = local.env.STATS_1 as typeof db;
        const statsNames = (await statsDb.prepare("SELECT name FROM d1_migrations ORDER BY id").all()).results.map((row) => row.name);
        expect(statsNames).toEqual(readdirSync(path.join(root, "migrations-stats")).filter((name) => name.endsWith(".sql")));
      } finally {
        await local.dispose();
      }
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it("drops the bindings table, the secrets notice and the cron calls, and keeps the rest", () => {
    const keep = wranglerOutputFilter();
    const kept = fixture("wrangler-dev.txt").trimEnd().split("\n").filter(keep);
    expect(kept).toEqual([
      "[wrangler:info] Ready on http://127.0.0.1:8799",
      '{"msg":"stored message purge","deleted":0,"unfinished":false}',
      '{"msg":"retention purge","events":0,"messages":0,"returnPaths":0,"unfinished":false}',
      '{"msg":"certificate checks","checked":0,"active":0,"processing":0,"expired":0,"error":0,"retired":0}',
      '{"msg":"dns checks","checked":0,"valid":0,"invalid":0,"failed":0}',
      '{"msg":"webhook ledger purge","deleted":0}',
      '{"msg":"stats rollup","events":0,"chunks":0,"skipped":0,"purged":0,"unfinished":false}',
      "[wrangler:info] GET /v4/domains 401 Unauthorized (14ms)",
    ]);
  });

  it("matches lines in colour as without", () => {
    const keep = wranglerOutputFilter();
    expect(keep("\u001b[2m⎔ Starting local server...\u001b[22m")).toBe(false);
    expect(keep("\u001b[34m[wrangler:info]\u001b[39m GET /__scheduled 200 OK (6ms)")).toBe(false);
    expect(keep("\u001b[34m[wrangler:info]\u001b[39m GET /v3/domains 200 OK (6ms)")).toBe(true);
    // The generated types follow the production environment; wrangler dev hashes the top level's.
    expect(keep("\u2753 Your types might be out of date. Re-run `wrangler types` to ensure your types are correct.")).toBe(false);
    expect(plain("\u001b[1mbold\u001b[22m")).toBe("bold");
  });
});
