// The bad-input suite's cases: every route of hostile-routes.ts with one part of its valid request
// spoiled at a time (each path parameter, each query parameter, each body field, the body as a
// whole, the credentials), the values drawn from hostile-values.ts by a seeded PRNG. Pure: the
// same seed and context give the same cases, in a test (test/integration/hostile-input.test.ts)
// and in the benchmark (bench/hostile.bench.ts).
import { type Auth, apiRoutes, edgeRoutes, type HostileContext, panelRoutes, type RouteSpec } from "./hostile-routes";
import {
  addressValues,
  csvTexts,
  dateValues,
  deepJsonArray,
  type Hostile,
  jsonTexts,
  malformedForms,
  multipart,
  numberValues,
  type Part,
  pathValues,
  pick,
  prototypeValues,
  type Random,
  rawPathValues,
  sample,
  seededRandom,
  stringValues,
  tokenValues,
} from "./hostile-values";

export type { HostileContext } from "./hostile-routes";

export interface HostileCase {
  /** "spoiled": one part of a valid request; "credentials": none or broken ones; "unrouted": no route's path. */
  kind: "spoiled" | "credentials" | "unrouted";
  route: string;
  /** What was spoiled, e.g. "query limit: 1e20". */
  name: string;
  method: string;
  /** Path and query, as sent (already encoded). */
  url: string;
  host: string;
  headers: Record<string, string>;
  body?: string;
  auth: Auth;
  /** An API route: a 4xx must carry Mailgun's JSON `{"message": "..."}`. */
  api: boolean;
}

/**
 * How many values of its family each parameter gets, beside the ones every parameter gets (all
 * prototype names in every path segment and query value, some invalid escapes). The cases number
 * about 2,800 with 1; each more adds about 360.
 */
export const VALUES_PER_PARAMETER = 1;
const SHARED_HOST = "127.0.0.1";

/** encodeURIComponent that survives lone surrogates (sent as U+FFFD, as a browser would). */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/\p{Surrogate}/gu, "\ufffd"));
  }
}

/** The value families, made once per run (some values are 100,000 characters long). */
interface Families {
  strings: Hostile[];
  numbers: Hostile[];
  dates: Hostile[];
  addresses: Hostile[];
  json: Hostile[];
  paths: Hostile[];
  raw: Hostile[];
  prototypes: Hostile[];
}

function familiesOf(random: Random): Families {
  return {
    strings: stringValues(random),
    numbers: numberValues(),
    dates: dateValues(),
    addresses: addressValues(random),
    json: jsonTexts(),
    paths: pathValues(),
    raw: rawPathValues(),
    prototypes: prototypeValues(),
  };
}

function familyFor(spec: RouteSpec, name: string, random: Random, f: Families): Hostile[] {
  if (spec.numbers?.includes(name)) return f.numbers;
  if (spec.dates?.includes(name)) return f.dates;
  if (spec.addresses?.includes(name)) return f.addresses;
  if (spec.tokens?.includes(name)) return tokenValues(random, spec.params[name] ?? spec.query?.[name] ?? "AAAA");
  if (spec.json?.includes(name)) return f.json;
  if (spec.paths?.includes(name)) return f.paths;
  return f.strings;
}

/** A parameter's values from its family: every core value, and `n` of the others. */
const valuesOf = (random: Random, family: Hostile[], n: number) => [
  ...family.filter((v) => v.core),
  ...sample(
    random,
    family.filter((v) => !v.core),
    n,
  ),
];

/** Values a parameter named by a URL the Worker would fetch may take: none that leave the machine. */
const offline = (values: Hostile[]) => values.filter((v) => !/^(https?:)?\/\//.test(v.value) && !v.value.includes("evil.example"));

interface RequestParts {
  params: Record<string, Hostile>;
  query: Record<string, Hostile>;
  body: Record<string, Hostile>;
}

const plain = (record: Record<string, string>): Record<string, Hostile> =>
  Object.fromEntries(
    Object.entries(record)
      .filter(([, v]) => v !== "")
      .map(([k, v]) => [k, { name: "valid", value: v }]),
  );

function urlOf(spec: RouteSpec, request: RequestParts): string {
  const path = spec.path.replace(/:(\w+)/g, (_, name: string) => {
    const v = request.params[name]!;
    return v.raw ? v.value : encode(v.value);
  });
  const query = Object.entries(request.query).map(([k, v]) => `${encode(k)}=${v.raw ? v.value : encode(v.value)}`);
  return query.length ? `${path}?${query.join("&")}` : path;
}

/** The body of a spec's request with these field values, and its content type. */
function bodyOf(spec: RouteSpec, fields: Record<string, Hostile>, ctx: HostileContext, multipartForm: boolean): { type: string; body: string } | undefined {
  const kind = spec.body?.kind;
  if (!kind) return undefined;
  const parts: Part[] = Object.entries(fields).map(([name, v]) => ({ name, value: v.value }));
  switch (kind) {
    case "json": {
      // JSON-valued fields go in as the text they are (so a malformed one spoils the body), others as strings.
      const members = Object.entries(fields).map(([name, v]) => `${JSON.stringify(name)}: ${spec.json?.includes(name) ? v.value : JSON.stringify(v.value)}`);
      return { type: "application/json", body: `{${members.join(", ")}}` };
    }
    case "csv":
      return multipart([{ name: "file", value: fields.file?.value ?? "", filename: "list.csv", type: "text/csv" }]);
    case "mime":
      return multipart(parts.map((p) => (p.name === "message" ? { ...p, filename: "message.mime", type: "message/rfc822" } : p)));
    case "panel-file":
      return multipart([
        { name: "_csrf", value: ctx.session.csrf },
        ...parts.map((p) => (p.name === "file" ? { ...p, filename: "list.csv", type: "text/csv" } : p)),
      ]);
    case "panel-form":
      return urlencoded([{ name: "_csrf", value: ctx.session.csrf }, ...parts]);
    case "unsubscribe":
    case "form":
      return multipartForm ? multipart(parts) : urlencoded(parts);
  }
}

function urlencoded(parts: Part[]): { type: string; body: string } {
  return { type: "application/x-www-form-urlencoded", body: parts.map((p) => `${encode(p.name)}=${encode(p.value)}`).join("&") };
}

function caseOf(
  spec: RouteSpec,
  ctx: HostileContext,
  name: string,
  request: RequestParts,
  random: Random,
  override?: { type: string; body: string },
): HostileCase {
  const body = override ?? bodyOf(spec, request.body, ctx, random() < 0.5);
  return {
    kind: "spoiled",
    route: spec.route,
    name,
    method: spec.method,
    url: urlOf(spec, request),
    host: spec.host ?? SHARED_HOST,
    headers: body ? { "content-type": body.type } : {},
    body: body?.body,
    auth: spec.auth,
    // On a shared host; a domain's tracking host serves no API (issue 11, item 16).
    api: !spec.host && (/^\/v[1-5](\/|$)/.test(spec.path) || spec.path === "/"),
  };
}

function routeCases(spec: RouteSpec, ctx: HostileContext, random: Random, f: Families, perParameter: number): HostileCase[] {
  const base: RequestParts = { params: plain(spec.params), query: plain(spec.query ?? {}), body: plain(spec.body?.fields ?? {}) };
  const cases: HostileCase[] = [];
  const add = (name: string, change: Partial<RequestParts>, override?: { type: string; body: string }) =>
    cases.push(caseOf(spec, ctx, name, { ...base, ...change }, random, override));
  if (!spec.destructive) add("a valid request", {});

  // Every path parameter: every prototype name, some raw escapes, some values of its family.
  for (const param of Object.keys(spec.params)) {
    for (const v of [...f.prototypes, ...sample(random, f.raw, 2), ...valuesOf(random, familyFor(spec, param, random, f), perParameter)]) {
      add(`path ${param}: ${v.name}`, { params: { ...base.params, [param]: v } });
    }
  }
  if (spec.destructive) return cases;

  // Parameters no handler reads, named like prototype properties or badly escaped.
  const junk = caseOf(spec, ctx, "query: unread parameters named like prototype properties", base, random);
  junk.url += `${junk.url.includes("?") ? "&" : "?"}__proto__[x]=1&constructor=2&toString=3&%zz=%&%FF=%FE`;
  cases.push(junk);

  // Named combinations that reach what one spoiled part alone does not.
  for (const extra of spec.extras ?? []) {
    const values = (record: Record<string, string> | undefined, into: Record<string, Hostile>) => ({
      ...into,
      ...Object.fromEntries(Object.entries(record ?? {}).map(([k, v]) => [k, { name: extra.name, value: v }])),
    });
    const request = { params: values(extra.params, base.params), query: values(extra.query, base.query), body: values(extra.body, base.body) };
    for (const r of [request.query, request.body]) for (const [k, v] of Object.entries(r)) if (v.value === "") delete r[k];
    cases.push(caseOf(spec, ctx, extra.name, request, random));
  }

  // Every query parameter (absent from the baseline or not): every prototype name, some of its family.
  for (const param of Object.keys(spec.query ?? {})) {
    const family = familyFor(spec, param, random, f);
    const values = [...f.prototypes, ...valuesOf(random, spec.noFetch?.includes(param) ? offline(family) : family, perParameter), ...sample(random, f.raw, 1)];
    for (const v of values) add(`query ${param}: ${v.name}`, { query: { ...base.query, [param]: v } });
  }
  if (Object.keys(spec.query ?? {}).length > 0) {
    const repeated = Object.keys(spec.query!).flatMap((k) => Array.from({ length: 1000 }, (_, i) => `${encode(k)}=${i}`));
    const each = caseOf(spec, ctx, "query: each parameter 1,000 times", base, random);
    each.url += (each.url.includes("?") ? "&" : "?") + repeated.join("&");
    cases.push(each);
  }

  // Every body field: some of its family and one prototype name; a field named like a prototype.
  if (spec.body) {
    for (const field of Object.keys(spec.body.fields)) {
      const family = familyFor(spec, field, random, f);
      const proto = pick(random, f.prototypes);
      // In a JSON-valued field a prototype name is a key: {"__proto__": {"__proto__": 1}}.
      const protoValue = spec.json?.includes(field) ? { name: proto.name, value: `{"${proto.value}": {"${proto.value}": 1}}` } : proto;
      const values = [...valuesOf(random, spec.noFetch?.includes(field) ? offline(family) : family, perParameter), protoValue];
      for (const v of values) add(`body ${field}: ${v.name}`, { body: { ...base.body, [field]: v } });
    }
    const protoName = pick(random, f.prototypes).value;
    add(`body: a field named ${protoName}`, { body: { ...base.body, [protoName]: { name: "x", value: "x" } } });
    cases.push(...wholeBodyCases(spec, ctx, base, random, f));
  }
  return cases;
}

/** The body as a whole: malformed, of another type, enormous, nested deep. */
function wholeBodyCases(spec: RouteSpec, ctx: HostileContext, base: RequestParts, random: Random, f: Families): HostileCase[] {
  const kind = spec.body!.kind;
  const out: HostileCase[] = [];
  const withBody = (name: string, type: string, body: string) => out.push(caseOf(spec, ctx, `body: ${name}`, base, random, { type, body }));
  const fields: Part[] = Object.entries(base.body).map(([name, v]) => ({ name, value: v.value }));
  if (kind === "json") {
    for (const j of f.json) withBody(`JSON ${j.name}`, "application/json", j.value);
    withBody("form type", "application/x-www-form-urlencoded", "a=1");
  } else if (kind === "csv" || kind === "panel-file") {
    for (const csv of sample(random, csvTexts(random), 5)) {
      const file = { ...base.body, file: { name: csv.name, value: csv.value } };
      out.push(caseOf(spec, ctx, `body: CSV ${csv.name}`, { ...base, body: file }, random));
    }
    for (const m of sample(random, malformedForms(fields), 2)) withBody(m.name, m.type, m.body);
  } else {
    const csrf: Part[] = kind === "panel-form" ? [{ name: "_csrf", value: ctx.session.csrf }] : [];
    for (const m of sample(random, malformedForms([...csrf, ...fields]), 4)) withBody(m.name, m.type, m.body);
    for (const j of sample(random, f.json, 2)) withBody(`JSON ${j.name}`, "application/json", j.value);
    withBody("JSON object", "application/json", JSON.stringify(Object.fromEntries(fields.map((p) => [p.name, p.value]))));
    withBody("JSON object nested 100,000 deep", "application/json", `{"${fields[0]?.name ?? "a"}": ${deepJsonArray(100_000)}}`);
    if (kind === "panel-form") {
      const bare = fields.map((p) => `${encode(p.name)}=${encode(p.value)}`).join("&");
      withBody("no CSRF token", "application/x-www-form-urlencoded", bare);
      withBody("a wrong CSRF token", "application/x-www-form-urlencoded", `_csrf=${"A".repeat(43)}&${bare}`);
    }
  }
  return out;
}

/** Without credentials, and with broken ones. */
function credentialCases(spec: RouteSpec, ctx: HostileContext, random: Random): HostileCase[] {
  if (spec.auth === "none") return [];
  const base = caseOf(spec, ctx, "", { params: plain(spec.params), query: plain(spec.query ?? {}), body: plain(spec.body?.fields ?? {}) }, random);
  const broken =
    spec.auth === "api"
      ? pick(random, [
          ["Basic, not base64", "Basic ***"],
          ["Basic, no colon", `Basic ${btoa("apikey")}`],
          ["Basic, 10,000-character key", `Basic ${btoa(`api:${"k".repeat(10_000)}`)}`],
          ["Basic, wrong user", `Basic ${btoa("constructor:x")}`],
          ["Bearer", "Bearer abc"],
        ] as const)
      : pick(random, [
          ["a forged session cookie", "tidings_session=AAAA.BBBB"],
          ["a 10,000-character session cookie", `tidings_session=${"A".repeat(10_000)}`],
          ["a session cookie named __proto__", "__proto__=x; tidings_session=constructor"],
        ] as const);
  const header = spec.auth === "api" ? "authorization" : "cookie";
  return [
    { ...base, kind: "credentials", name: "no credentials", auth: "none" },
    { ...base, kind: "credentials", name: `credentials: ${broken[0]}`, auth: "none", headers: { ...base.headers, [header]: broken[1] } },
  ];
}

/** Paths that are no route: hostile segments under each prefix. */
function unroutedCases(random: Random, f: Families): HostileCase[] {
  const paths = ["/v3/", "/v4/domains/x/", "/app/", "/o/", "/", "/cdn-cgi/"];
  return paths.flatMap((prefix) =>
    sample(random, [...f.strings, ...f.raw], 4).map((v) => ({
      kind: "unrouted" as const,
      route: `GET ${prefix}* (no route)`,
      name: `path: ${v.name}`,
      method: "GET",
      url: prefix + (v.raw ? v.value : encode(v.value)),
      host: SHARED_HOST,
      headers: {},
      auth: prefix.startsWith("/app") ? ("session" as const) : ("api" as const),
      api: prefix.startsWith("/v"),
    })),
  );
}

/** The click links prepare signed for hostile hrefs, followed on the shared and the domain's own host. */
function signedLinkCases(ctx: HostileContext): HostileCase[] {
  return ctx.signedLinks.flatMap(({ name, token }) =>
    [SHARED_HOST, `email.${ctx.domain}`].map((host) => ({
      kind: "spoiled" as const,
      route: `GET /c/:token${host === SHARED_HOST ? "" : " (tracking host)"}`,
      name: `signed link: ${name}`,
      method: "GET",
      url: `/c/${token}`,
      host,
      headers: {},
      auth: "none" as const,
      api: false,
    })),
  );
}

/** Every case for this seed: each route's spoiled requests, its credential cases, unrouted paths. */
export function hostileCases(seed: number, ctx: HostileContext, perParameter = VALUES_PER_PARAMETER): HostileCase[] {
  const random = seededRandom(seed);
  const f = familiesOf(random);
  const specs = [...apiRoutes(ctx), ...panelRoutes(ctx), ...edgeRoutes(ctx)];
  // Routes that reconfigure or delete go last, so that they spoil nothing the others need.
  const order = (s: RouteSpec) => (s.destructive ? 2 : s.params.name === ctx.victim || s.params.host === `email.${ctx.victim}` ? 1 : 0);
  specs.sort((a, b) => order(a) - order(b));
  return [
    ...specs.flatMap((spec) => [...routeCases(spec, ctx, random, f, perParameter), ...credentialCases(spec, ctx, random)]),
    ...signedLinkCases(ctx),
    ...unroutedCases(random, f),
  ];
}
