// Every route of the Worker (src/api/*.ts, src/panel, src/edge, src/index.ts) with a request that
// reaches its handler: the baseline the bad-input suite (hostile-cases.ts) spoils one part at a time.
// Pure: the context (a domain, tokens, a session) is made by whoever runs the cases.

export interface HostileContext {
  /** A domain that exists, tracking on; never deleted or reconfigured by the cases. */
  domain: string;
  /** A second domain that the cases may reconfigure (PUT settings, tracking) and try to delete. */
  victim: string;
  /** Valid tracking tokens of `domain`. */
  tokens: { open: string; click: string; unsubscribe: string };
  /** Click tokens prepare signed for hostile links (control characters, 1,500 non-ASCII characters), if it signed them. */
  signedLinks: Array<{ name: string; token: string }>;
  /** A stored message key of `domain`. */
  storedKey: string;
  /** A valid Events API page token of `domain`. */
  eventsToken: string;
  /** The panel session cookie (`name=value`) and its CSRF token. */
  session: { cookie: string; csrf: string };
}

export type Auth = "api" | "session" | "none";
export type BodyKind = "form" | "json" | "csv" | "mime" | "panel-form" | "panel-file" | "unsubscribe";

export interface RouteSpec {
  /** "GET /v3/:domain/events": how the route is named in src/. */
  route: string;
  method: string;
  /** The path with `:name` placeholders filled from `params`. */
  path: string;
  params: Record<string, string>;
  /** Query parameters the handler reads, with valid values ("" = absent from the baseline). */
  query?: Record<string, string>;
  /** Names (in query or body) that hold numbers, dates, addresses, tokens or JSON. */
  numbers?: string[];
  dates?: string[];
  addresses?: string[];
  tokens?: string[];
  json?: string[];
  /** Names that hold a page of the panel to go back to. */
  paths?: string[];
  body?: { kind: BodyKind; fields: Record<string, string> };
  auth: Auth;
  /** The Host to ask (default 127.0.0.1, a shared host). */
  host?: string;
  /** Cases change only its path parameters: its baseline would delete or replace what later cases need. */
  destructive?: boolean;
  /** Names whose hostile values must not make the Worker call out (URLs it would fetch). */
  noFetch?: string[];
  /** Several parts spoiled together, where one alone does not reach the defect (e.g. hourly stats over millennia). */
  extras?: Array<{ name: string; params?: Record<string, string>; query?: Record<string, string>; body?: Record<string, string> }>;
}

/** A domain whose name is longer than an object key may be (R2: 1,024 bytes). */
const LONG_DOMAIN = { name: "a 1,100-character domain", params: { domain: `${"d".repeat(1088)}.example.com` } };
const YEAR_100 = "Fri, 01 Jan 0100 00:00:00 +0000";
const YEAR_6000 = "Mon, 01 Jan 6000 00:00:00 +0000";
/** Stats over the widest range in every resolution: each must be refused (or answered) at once. */
const WIDE_STATS: NonNullable<RouteSpec["extras"]> = [
  { name: "hourly from year 100 to 6000", query: { resolution: "hour", start: YEAR_100, end: YEAR_6000, duration: "" } },
  { name: "daily from year 100 to 6000", query: { resolution: "day", start: YEAR_100, end: YEAR_6000, duration: "" } },
  { name: "monthly from year 100 to 6000", query: { resolution: "month", start: YEAR_100, end: YEAR_6000, duration: "" } },
  { name: "hourly for 10,000,000 hours", query: { resolution: "hour", duration: "10000000h" } },
  { name: "hourly epoch 0 to 2^53", query: { resolution: "hour", start: "0", end: "9007199254740991", duration: "" } },
];

const LISTS = ["bounces", "unsubscribes", "complaints", "whitelists"] as const;
const get = (path: string, params: Record<string, string>, rest: Partial<RouteSpec> = {}): RouteSpec => ({
  route: `GET ${path}`,
  method: "GET",
  path,
  params,
  auth: "api",
  ...rest,
});
const send = (method: string, path: string, params: Record<string, string>, rest: Partial<RouteSpec> = {}): RouteSpec => ({
  route: `${method} ${path}`,
  method,
  path,
  params,
  auth: "api",
  ...rest,
});

/** The API (Basic auth): v1 to v5, as src/api/app.ts mounts them. */
export function apiRoutes(ctx: HostileContext): RouteSpec[] {
  const d = { domain: ctx.domain };
  const n = { name: ctx.domain };
  const v = { name: ctx.victim };
  const hook = "http://127.0.0.1:9/hook"; // a closed port: a test call fails at once, offline
  const statsQuery = { event: "accepted", start: "", end: "", resolution: "", duration: "1d" };
  const statsShape = { numbers: ["duration"], dates: ["start", "end"], extras: WIDE_STATS };
  const logsFilter = { AND: [{ attribute: "recipient", comparator: "=", values: [{ label: "r", value: "r@example.org" }] }] };
  return [
    get("/", {}),
    // Domains
    send(
      "POST",
      "/v4/domains",
      {},
      {
        body: {
          kind: "form",
          fields: { name: "new-hostile.example.com", web_prefix: "track", web_scheme: "http", spam_action: "disabled", retention_days: "7", wildcard: "no" },
        },
        numbers: ["retention_days"],
      },
    ),
    get("/v4/domains", {}, { query: { limit: "10", skip: "0", sort: "name:asc", search: "host" }, numbers: ["limit", "skip"] }),
    get("/v4/domains/:name", n),
    send("PUT", "/v4/domains/:name", v, {
      body: { kind: "form", fields: { web_prefix: "links", web_scheme: "http", spam_action: "tag", retention_days: "5", wildcard: "yes" } },
      numbers: ["retention_days"],
    }),
    send("PUT", "/v4/domains/:name/verify", n),
    send("DELETE", "/v3/domains/:name", { name: "not-a-domain-here.example.com" }, { destructive: true }),
    // The v3 forms mailgun-js 0.22 and mailgun.js 8 call (issue 11, item 17).
    send(
      "POST",
      "/v3/domains",
      {},
      { body: { kind: "form", fields: { name: "new-v3-hostile.example.com", web_scheme: "http", spam_action: "disabled", wildcard: "no" } } },
    ),
    get("/v3/domains/:name", n),
    // Tracking settings
    get("/v3/domains/:name/tracking", n),
    send("PUT", "/v3/domains/:name/tracking/open", v, { body: { kind: "form", fields: { active: "yes", place_at_the_top: "no" } } }),
    send("PUT", "/v3/domains/:name/tracking/click", v, { body: { kind: "form", fields: { active: "htmlonly" } } }),
    send("PUT", "/v3/domains/:name/tracking/unsubscribe", v, {
      body: { kind: "form", fields: { active: "yes", html_footer: "<p>Bye</p>", text_footer: "Bye" } },
    }),
    // Prepare
    send(
      "POST",
      "/v1/tracking/prepare",
      {},
      {
        body: {
          kind: "json",
          fields: {
            domain: ctx.domain,
            message_id: "hostile@x",
            recipient: "r@example.org",
            html: '<a href="https://example.org/x">x</a>',
            text: "https://example.org/y",
            tags: '["a"]',
            user_variables: '{"k":"v"}',
            subject: "Hi",
            from: "me@example.org",
            "o:tracking": "yes",
          },
        },
        addresses: ["recipient", "from"],
        json: ["tags", "user_variables"],
      },
    ),
    // Events
    get("/v3/:domain/events", d, {
      query: { limit: "10", begin: "", end: "", ascending: "", recipient: "r@example.org", event: "opened", tags: "", subject: "", "message-id": "" },
      numbers: ["limit"],
      dates: ["begin", "end"],
      addresses: ["recipient"],
      extras: [
        { name: "from year 100 to 6000", query: { begin: YEAR_100, end: YEAR_6000 } },
        { name: "a filter of 1,000 ORs", query: { subject: Array.from({ length: 1000 }, (_, i) => `s${i}`).join(" OR ") } },
        { name: "a filter nested 1,000 deep", query: { subject: `${"(".repeat(1000)}x${")".repeat(1000)}` } },
      ],
    }),
    get("/v3/:domain/events/:token", { ...d, token: ctx.eventsToken }, { tokens: ["token"] }),
    // A paging URL with only Mailgun's own host stripped, as Ghost's client requests it (issue 11, item 18).
    get("/v3http://127.0.0.1/v3/:domain/events/:token", { ...d, token: ctx.eventsToken }, { tokens: ["token"] }),
    // Suppressions, each list
    ...LISTS.flatMap((kind) => {
      const p = { ...d, kind };
      const one: Record<string, string> =
        kind === "whitelists"
          ? { address: "ok@example.org", reason: "partner" }
          : kind === "bounces"
            ? { address: "ok@example.org", code: "550", error: "gone", created_at: "" }
            : kind === "unsubscribes"
              ? { address: "ok@example.org", tag: "news", created_at: "" }
              : { address: "ok@example.org", created_at: "" };
      return [
        get(`/v3/:domain/:kind`, p, {
          route: `GET /v3/:domain/${kind}`,
          query: { limit: "10", page: "", address: "", term: "" },
          numbers: ["limit"],
          addresses: ["address"],
        }),
        get(`/v3/:domain/:kind/:address`, { ...p, address: "ok@example.org" }, { route: `GET /v3/:domain/${kind}/:address`, addresses: ["address"] }),
        send("POST", `/v3/:domain/:kind`, p, {
          route: `POST /v3/:domain/${kind}`,
          body: { kind: "form", fields: one },
          numbers: ["code"],
          dates: ["created_at"],
          addresses: ["address"],
          extras:
            kind === "unsubscribes" ? [{ name: "101 tags", body: { tag: "", tags: JSON.stringify(Array.from({ length: 101 }, (_, i) => `t${i}`)) } }] : [],
        }),
        send("POST", `/v3/:domain/:kind/import`, p, {
          route: `POST /v3/:domain/${kind}/import`,
          body: { kind: "csv", fields: { file: "address,code,error\nimp@example.org,550,x\n" } },
        }),
        send(
          "DELETE",
          `/v3/:domain/:kind/:address`,
          { ...p, address: "ok@example.org" },
          { route: `DELETE /v3/:domain/${kind}/:address`, query: kind === "unsubscribes" ? { tag: "" } : {}, addresses: ["address"] },
        ),
        send("DELETE", `/v3/:domain/:kind`, p, { route: `DELETE /v3/:domain/${kind}` }),
      ];
    }),
    // Messages
    send("POST", "/v3/:domain/messages", d, {
      body: {
        kind: "form",
        fields: {
          from: `Sender <sender@${ctx.domain}>`,
          to: "Reader <reader@example.org>",
          cc: "",
          bcc: "",
          subject: "Hello",
          text: "Hi https://example.org/t",
          html: '<p><a href="https://example.org/h">h</a></p>',
          "o:tag": "hostile",
          "o:testmode": "yes",
          "o:deliverytime": "",
          "o:tracking": "",
          "h:Reply-To": "reply@example.org",
          "h:X-Mailgun-Variables": '{"a":1}',
          "v:campaign": "c1",
          "recipient-variables": '{"reader@example.org":{"n":1}}',
        },
      },
      addresses: ["from", "to", "cc", "bcc", "h:Reply-To"],
      dates: ["o:deliverytime"],
      json: ["h:X-Mailgun-Variables", "recipient-variables"],
      extras: [
        {
          name: "1,000 recipients without recipient-variables",
          body: { to: Array.from({ length: 1000 }, (_, i) => `many${i}@example.org`).join(", "), "recipient-variables": "" },
        },
        {
          name: "a 1,179-character Subject and a 1,533-character X-Mailgun-Variables",
          body: { subject: "S".repeat(1179), "h:X-Mailgun-Variables": JSON.stringify({ v: "x".repeat(1520) }) },
        },
        { name: "CR LF in h:X-Custom", body: { "h:X-Custom": "a\r\nX-Injected: yes" } },
      ],
    }),
    send("POST", "/v3/:domain/messages.mime", d, {
      body: {
        kind: "mime",
        fields: {
          to: "reader@example.org",
          "o:testmode": "yes",
          message: `From: sender@${ctx.domain}\r\nTo: reader@example.org\r\nSubject: MIME\r\n\r\nHello\r\n`,
        },
      },
      addresses: ["to"],
    }),
    get("/v3/domains/:domain/messages/:key", { ...d, key: ctx.storedKey }, { tokens: ["key"], extras: [LONG_DOMAIN] }),
    send(
      "POST",
      "/v3/domains/:domain/messages/:key",
      { ...d, key: ctx.storedKey },
      { body: { kind: "form", fields: { to: "again@example.org" } }, tokens: ["key"], addresses: ["to"], extras: [LONG_DOMAIN] },
    ),
    // Stats and tags
    get("/v3/stats/total", {}, { query: statsQuery, ...statsShape }),
    get("/v3/:domain/stats/total", d, { query: statsQuery, ...statsShape }),
    get("/v3/:domain/tags/:tag/stats", { ...d, tag: "hostile" }, { query: statsQuery, ...statsShape }),
    get("/v3/:domain/tag/stats", d, { query: { ...statsQuery, tag: "hostile" }, ...statsShape }),
    get("/v3/:domain/tags/:tag/stats/aggregates/:which", { ...d, tag: "hostile", which: "countries" }),
    get("/v3/:domain/tag/stats/aggregates", d, { query: { tag: "hostile", type: "country" } }),
    get("/v3/:domain/tags", d, { query: { limit: "10", page: "", tag: "", prefix: "" }, numbers: ["limit"] }),
    get("/v3/:domain/tags/:tag", { ...d, tag: "hostile" }),
    get("/v3/:domain/tag", d, { query: { tag: "hostile" } }),
    send("PUT", "/v3/:domain/tags/:tag", { ...d, tag: "hostile" }, { body: { kind: "form", fields: { description: "described" } } }),
    send("PUT", "/v3/:domain/tag", d, { query: { tag: "hostile" }, body: { kind: "form", fields: { description: "described" } } }),
    send("DELETE", "/v3/:domain/tags/:tag", { ...d, tag: "hostile" }),
    send("DELETE", "/v3/:domain/tag", d, { query: { tag: "hostile" } }),
    get("/v3/domains/:domain/limits/tag", d),
    // Analytics (JSON bodies)
    send(
      "POST",
      "/v1/analytics/metrics",
      {},
      {
        body: {
          kind: "json",
          fields: {
            start: "",
            end: "",
            resolution: "day",
            duration: "7d",
            dimensions: '["time"]',
            metrics: '["accepted_count"]',
            filter: JSON.stringify({ AND: [{ attribute: "domain", comparator: "=", values: [{ label: ctx.domain, value: ctx.domain }] }] }),
            include_aggregates: "true",
            pagination: '{"skip":0,"limit":10}',
          },
        },
        dates: ["start", "end"],
        numbers: ["duration"],
        json: ["dimensions", "metrics", "filter", "include_aggregates", "pagination"],
        extras: [
          { name: "hourly from year 100 to 6000 by time", body: { resolution: "hour", start: YEAR_100, end: YEAR_6000, duration: "" } },
          { name: "hourly for 10,000,000 hours by time", body: { resolution: "hour", duration: "10000000h" } },
        ],
      },
    ),
    send(
      "POST",
      "/v1/analytics/tags",
      {},
      {
        body: { kind: "json", fields: { tag: "hostile", include_metrics: "true", pagination: '{"skip":0,"limit":10}' } },
        json: ["include_metrics", "pagination"],
      },
    ),
    send("PUT", "/v1/analytics/tags", {}, { body: { kind: "json", fields: { tag: "hostile", description: "d" } } }),
    send("DELETE", "/v1/analytics/tags", {}, { body: { kind: "json", fields: { tag: "not-a-tag-here" } } }),
    get("/v1/analytics/tags/limits", {}),
    send(
      "POST",
      "/v1/analytics/logs",
      {},
      {
        body: {
          kind: "json",
          fields: {
            start: "",
            end: "",
            duration: "1d",
            events: '["opened"]',
            filter: JSON.stringify(logsFilter),
            include_totals: "true",
            pagination: '{"sort":"timestamp:desc","limit":10}',
          },
        },
        dates: ["start", "end"],
        numbers: ["duration"],
        json: ["events", "filter", "include_totals", "pagination"],
        extras: [{ name: "from year 100 to 6000", body: { start: YEAR_100, end: YEAR_6000, duration: "" } }],
      },
    ),
    // Certificates
    send("POST", "/v2/x509/:host", { host: `email.${ctx.victim}` }),
    send("PUT", "/v2/x509/:host", { host: `email.${ctx.victim}` }),
    get("/v2/x509/:host/status", { host: `email.${ctx.domain}` }),
    // Webhooks
    get("/v3/domains/:domain/webhooks", d),
    send("POST", "/v3/domains/:domain/webhooks", d, { body: { kind: "form", fields: { id: "clicked", url: hook } }, noFetch: ["url"] }),
    get("/v3/domains/:domain/webhooks/dead-letters", d, { query: { limit: "10", page: "" }, numbers: ["limit"], tokens: ["page"] }),
    send("POST", "/v3/domains/:domain/webhooks/dead-letters/:id/replay", { ...d, id: "no-such-letter" }),
    send("DELETE", "/v3/domains/:domain/webhooks/dead-letters/:id", { ...d, id: "no-such-letter" }),
    get("/v3/domains/:domain/webhooks/:id", { ...d, id: "clicked" }),
    send("PUT", "/v3/domains/:domain/webhooks/:id", { ...d, id: "clicked" }, { body: { kind: "form", fields: { url: hook } }, noFetch: ["url"] }),
    send("DELETE", "/v3/domains/:domain/webhooks/:id", { ...d, id: "opened" }),
    send("PUT", "/v3/domains/:domain/webhooks/:id/test", { ...d, id: "clicked" }, { body: { kind: "form", fields: { url: hook } }, noFetch: ["url"] }),
    send("POST", "/v4/domains/:domain/webhooks", d, { body: { kind: "form", fields: { url: hook, event_types: "opened,clicked" } }, noFetch: ["url"] }),
    send("PUT", "/v4/domains/:domain/webhooks", d, { body: { kind: "form", fields: { url: hook, event_types: "opened" } }, noFetch: ["url"] }),
    send("DELETE", "/v4/domains/:domain/webhooks", d, { query: { url: hook } }),
    get("/v5/accounts/http_signing_key", {}),
    send("POST", "/v5/accounts/http_signing_key", {}),
  ];
}

/** The panel (/app): a valid session cookie, and the session's CSRF token on every POST. */
export function panelRoutes(ctx: HostileContext): RouteSpec[] {
  const s = { auth: "session" as const };
  const f = (fields: Record<string, string>) => ({ kind: "panel-form" as const, fields });
  const pageGet = (path: string, query: Record<string, string> = {}, rest: Partial<RouteSpec> = {}) =>
    get(path, {}, { ...s, query: { domain: ctx.domain, notice: "", error: "", ...query }, ...rest });
  return [
    get("/app", {}, s),
    get("/app/static/panel.css", {}, s),
    get("/app/sign-in", {}, { auth: "none", query: { error: "", notice: "" } }),
    send("POST", "/app/sign-in", {}, { auth: "none", body: f({ api_key: "not-the-key" }) }),
    send("POST", "/app/sign-out", {}, { ...s, body: f({}) }),
    pageGet(
      "/app/logs",
      { recipient: "", "message-id": "", subject: "", from: "", tags: "", event: "", begin: "", end: "", page: "", hide_bots: "" },
      { dates: ["begin", "end"], tokens: ["page"], addresses: ["recipient"] },
    ),
    pageGet(
      "/app/logs/export.csv",
      { recipient: "", event: "", begin: "", end: "", range: "24h", hide_bots: "" },
      { dates: ["begin", "end"], addresses: ["recipient"] },
    ),
    pageGet("/app/logs/timeline", { message_id: "m1@example.com" }),
    pageGet("/app/logs/message", { key: ctx.storedKey }, { tokens: ["key"] }),
    get("/app/settings", {}, { ...s, query: { back: "/app/logs", notice: "", error: "" }, paths: ["back"] }),
    send("POST", "/app/settings", {}, { ...s, body: f({ time_zone: "Europe/Berlin", back: "/app/logs" }), paths: ["back"] }),
    send(
      "POST",
      "/app/domains/:name/send",
      { name: ctx.domain },
      { ...s, body: f({ to: "panel-test@example.org", from: `test@${ctx.domain}`, subject: "x", text: "x" }), addresses: ["to"] },
    ),
    pageGet("/app/analytics", { period: "7d", tag: "" }),
    pageGet("/app/suppressions", { list: "bounces", term: "", cursor: "" }, { tokens: ["cursor"] }),
    pageGet("/app/suppressions/export.csv", { list: "bounces" }),
    send(
      "POST",
      "/app/suppressions/add",
      {},
      {
        ...s,
        body: f({ domain: ctx.domain, list: "bounces", address: "panel@example.org", domain_entry: "", code: "550", error: "x", tag: "" }),
        numbers: ["code"],
        addresses: ["address"],
      },
    ),
    send(
      "POST",
      "/app/suppressions/delete",
      {},
      {
        ...s,
        body: f({ domain: ctx.domain, list: "bounces", address: "panel@example.org", back: `/app/suppressions?domain=${ctx.domain}` }),
        addresses: ["address"],
        paths: ["back"],
      },
    ),
    send("POST", "/app/suppressions/delete-all", {}, { ...s, body: f({ domain: ctx.domain, list: "complaints", confirm: "yes" }) }),
    send(
      "POST",
      "/app/suppressions/import",
      {},
      { ...s, body: { kind: "panel-file", fields: { domain: ctx.domain, list: "bounces", file: "address\npanel-import@example.org\n" } } },
    ),
    pageGet("/app/domains"),
    send("POST", "/app/domains", {}, { ...s, body: f({ name: "panel-new.example.com", web_prefix: "email" }) }),
    get("/app/domains/:name", { name: ctx.domain }, { ...s, query: { notice: "", error: "" } }),
    send(
      "POST",
      "/app/domains/:name/tracking",
      { name: ctx.victim },
      { ...s, body: f({ open: "yes", place_at_the_top: "no", click: "htmlonly", unsubscribe: "yes", html_footer: "<p>x</p>", text_footer: "x" }) },
    ),
    send(
      "POST",
      "/app/domains/:name/settings",
      { name: ctx.victim },
      { ...s, body: f({ web_scheme: "http", retention_days: "7" }), numbers: ["retention_days"] },
    ),
    send("POST", "/app/domains/:name/verify", { name: ctx.domain }, { ...s, body: f({}) }),
    send("POST", "/app/domains/:name/delete", { name: "panel-not-here.example.com" }, { ...s, body: f({ confirm: "yes" }), destructive: true }),
    pageGet("/app/webhooks", { reveal: "" }),
    send("POST", "/app/webhooks/add", {}, { ...s, body: f({ domain: ctx.domain, id: "delivered", url: "http://127.0.0.1:9/panel" }), noFetch: ["url"] }),
    send("POST", "/app/webhooks/remove", {}, { ...s, body: f({ domain: ctx.domain, id: "delivered", url: "http://127.0.0.1:9/panel" }), noFetch: ["url"] }),
    send("POST", "/app/webhooks/test", {}, { ...s, body: f({ domain: ctx.domain, id: "delivered", url: "http://127.0.0.1:9/panel" }), noFetch: ["url"] }),
    send("POST", "/app/webhooks/signing-key", {}, { ...s, body: f({ domain: ctx.domain, confirm: "no" }) }),
    send("POST", "/app/webhooks/replay", {}, { ...s, body: f({ domain: ctx.domain, dead: "no-such-letter" }) }),
  ];
}

/** The tracking edge, on a shared host and on the domain's own tracking host, and robots.txt. */
export function edgeRoutes(ctx: HostileContext): RouteSpec[] {
  const own = `email.${ctx.domain}`;
  const edge = (method: string, kind: "o" | "c" | "u", token: string, host?: string, body?: RouteSpec["body"]): RouteSpec => ({
    route: `${method} /${kind}/:token${host ? " (tracking host)" : ""}`,
    method,
    path: `/${kind}/:token`,
    params: { token },
    tokens: ["token"],
    auth: "none",
    host,
    body,
  });
  const oneClick = { kind: "unsubscribe" as const, fields: { "List-Unsubscribe": "One-Click" } };
  return [
    edge("GET", "o", ctx.tokens.open),
    edge("HEAD", "o", ctx.tokens.open),
    edge("GET", "o", ctx.tokens.open, own),
    edge("GET", "c", ctx.tokens.click),
    edge("GET", "c", ctx.tokens.click, own),
    edge("GET", "u", ctx.tokens.unsubscribe),
    edge("POST", "u", ctx.tokens.unsubscribe, undefined, oneClick),
    edge("POST", "u", ctx.tokens.unsubscribe, own, oneClick),
    { route: "GET /robots.txt (tracking host)", method: "GET", path: "/robots.txt", params: {}, auth: "none", host: own },
    // The API and the panel asked for on a customer's tracking host.
    get("/v4/domains/:name", { name: ctx.domain }, { route: "GET /v4/domains/:name (tracking host)", host: own }),
    get("/app/sign-in", {}, { route: "GET /app/sign-in (tracking host)", auth: "none", host: own }),
  ];
}
