// The tracking hot path: /o/<token> pixel, /c/<token> click, /u/<token> unsubscribe.
// Bindings: the events queue's producers (EVENTS, EVENTS_<i>: the domain's partition) only, and only inside waitUntil, after the answer is made.
// No D1, no Durable Object: check the token (its MAC, or its authenticated decryption: src/domain/token.ts), answer, hand the hit to the queue.
// HTTPS hosts need no lookup either: a link made as https carries that in its token, so a plain-http
// request for it goes to https; any answer over https on a host that is not shared (so a domain's
// own tracking host, whose certificate just served the request) carries Strict-Transport-Security.
import { queueFor } from "../db/queue-partitions";
import { isOwnHost } from "../domain/hosts";
import type { TrackingHitInput } from "../domain/queue-messages";
import { readToken, type SecretForVersion, secretsFromSettings, type TokenKind, type TokenPayload } from "../domain/token";
import type { Env } from "../env";
import { httpsRedirectResponse, invalidLinkPage, pixelResponse, redirectResponse, unsubscribeConfirmPage, unsubscribedPage } from "./responses";

type HitEvent = TrackingHitInput["event"];

/** Whether a request for a token made as https, arriving over plain http on a domain's own host, goes to https. */
function wantsHttps(url: Target, https: boolean | undefined, env: Env): boolean {
  return https === true && !url.https && !isOwnHost(url.hostname, env.SHARED_HOSTS);
}

/** A token is honoured on its own domain's tracking host, or on a shared host. */
export function isHonouredHost(host: string, token: TokenPayload, sharedHostsSetting: string): boolean {
  const h = host.toLowerCase();
  return isOwnHost(h, sharedHostsSetting) || h === `${token.webPrefix}.${token.domain}`.toLowerCase();
}

const OPEN: readonly TokenKind[] = ["open"];
const CLICK: readonly TokenKind[] = ["click"];
const UNSUBSCRIBE: readonly TokenKind[] = ["unsubscribe", "tag-unsubscribe"];

/**
 * `then` of the token's payload if it is authentic, of an expected kind and honoured on this host,
 * or of null: at once for what is refused unread, otherwise in the microtask the crypto completes in.
 */
function withToken<T>(raw: string, host: string, env: Env, expected: readonly TokenKind[], then: (token: TokenPayload | null) => T): T | Promise<T> {
  let secretFor: SecretForVersion;
  try {
    secretFor = secretsFromSettings(env).secretFor;
  } catch {
    return then(null); // a misconfigured secret must not turn into an error page in a mail client
  }
  return readToken(raw, secretFor, (token) => then(token && expected.includes(token.kind) && isHonouredHost(host, token, env.SHARED_HOSTS) ? token : null));
}

const SEND_AS_JSON: QueueSendOptions = { contentType: "json" };

/** Sends the hit to the events queue; the caller hands the promise to waitUntil. */
function queueHit(request: Request, env: Env, token: TokenPayload, event: HitEvent): Promise<unknown> {
  const cf = (request.cf ?? {}) as IncomingRequestCfProperties;
  const headers = request.headers; // a getter into the runtime: read once
  const hit: TrackingHitInput = {
    type: "hit",
    v: 1,
    event,
    ts: Date.now() * 1000,
    domain: token.domain,
    messageId: token.messageId,
    recipient: token.recipient,
    url: token.url,
    scope: token.kind === "tag-unsubscribe" ? "tags" : token.kind === "unsubscribe" ? "domain" : undefined,
    issuedAt: token.issuedAt,
    method: request.method,
    ip: headers.get("cf-connecting-ip") ?? "",
    userAgent: (headers.get("user-agent") ?? "").slice(0, 2048),
    cf: {
      country: cf.country,
      region: cf.region,
      regionCode: cf.regionCode,
      city: cf.city,
      asn: typeof cf.asn === "number" ? cf.asn : undefined,
      asOrganization: cf.asOrganization,
    },
  };
  const failed = (error: unknown) => {
    // The queue refused the hit (or no partition is bound): nothing else can be done from the edge; log for alerting.
    console.error(JSON.stringify({ msg: "events queue send failed", domain: hit.domain, messageId: hit.messageId, event, error: String(error) }));
  };
  // The partition's producer: a hash of the domain over bindings read once per isolate, no I/O.
  try {
    return queueFor(env, "events", hit.domain).send(hit, SEND_AS_JSON).catch(failed);
  } catch (error) {
    return Promise.resolve(failed(error));
  }
}

/** What the edge reads of a request's URL. */
export interface Target {
  https: boolean;
  hostname: string;
  path: string;
}

/**
 * The scheme, hostname and path of an absolute http(s) URL, read off the string: request.url is
 * already normalized by the runtime, and a full URL parse was a measurable part of a hit. Anything
 * unusual (another scheme, credentials) goes through the URL parser.
 */
export function targetOf(href: string): Target {
  const https = href.startsWith("https://");
  if (!https && !href.startsWith("http://")) return viaUrl(href);
  const hostStart = https ? 8 : 7;
  const slash = href.indexOf("/", hostStart);
  const question = href.indexOf("?", hostStart);
  const hash = href.indexOf("#", hostStart);
  let authorityEnd = href.length;
  if (slash >= 0) authorityEnd = slash;
  if (question >= 0 && question < authorityEnd) authorityEnd = question;
  if (hash >= 0 && hash < authorityEnd) authorityEnd = hash;
  const authority = href.slice(hostStart, authorityEnd);
  if (authority.includes("@") || authority.length === 0) return viaUrl(href);
  const portColon = authority.startsWith("[") ? authority.indexOf("]:") + 1 : authority.lastIndexOf(":");
  const hostname = (portColon > 0 ? authority.slice(0, portColon) : authority).toLowerCase();
  if (slash !== authorityEnd) return { https, hostname, path: "/" };
  let pathEnd = href.length;
  if (question >= 0) pathEnd = question;
  if (hash >= 0 && hash < pathEnd) pathEnd = hash;
  return { https, hostname, path: href.slice(slash, pathEnd) };
}

function viaUrl(href: string): Target {
  const url = new URL(href);
  return { https: url.protocol === "https:", hostname: url.hostname, path: url.pathname };
}

/**
 * Returns null when the path is not a tracking path; otherwise the answer: a Response once the
 * domain's key is derived in this isolate (a hit then makes no promise of its own before the
 * answer), a promise of one before that.
 */
export function handleTracking(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> | null {
  const url = targetOf(request.url);
  const path = url.path;
  const prefix = path.slice(0, 3);
  if (prefix !== "/o/" && prefix !== "/c/" && prefix !== "/u/") return null;
  const raw = path.slice(3);
  const hsts = url.https && !isOwnHost(url.hostname, env.SHARED_HOSTS);
  if (prefix === "/o/") return answerOpen(request, env, ctx, url, raw, hsts);
  if (prefix === "/c/") return answerClick(request, env, ctx, url, raw, hsts);
  return answerUnsubscribe(request, env, ctx, url, raw, hsts);
}

/**
 * The pixel: always the GIF, except that an authentic https token requested over plain http on its
 * domain's own host goes to https (that request records the open). Nothing is read from a token
 * before it verifies. Over https, or on a shared host, no token can be sent elsewhere, so the GIF is
 * answered at once and the token is checked after the answer (in waitUntil), where an authentic
 * one records the open; otherwise the answer waits for the check, which needs no storage either.
 */
function answerOpen(request: Request, env: Env, ctx: ExecutionContext, url: Target, raw: string, hsts: boolean): Response | Promise<Response> {
  const records = request.method === "GET" || request.method === "HEAD";
  if (url.https || isOwnHost(url.hostname, env.SHARED_HOSTS)) {
    if (records) {
      const recorded = withToken(raw, url.hostname, env, OPEN, (token) => token && queueHit(request, env, token, "opened"));
      if (recorded) ctx.waitUntil(recorded);
    }
    return pixelResponse(hsts);
  }
  return withToken(raw, url.hostname, env, OPEN, (token) => {
    if (!token) return pixelResponse(hsts);
    if (wantsHttps(url, token.https, env)) return httpsRedirectResponse(new URL(request.url), request.method);
    if (records) ctx.waitUntil(queueHit(request, env, token, "opened"));
    return pixelResponse(hsts);
  });
}

/** What an invalid click gets: the configured fallback, or the plain "not valid" page. */
function invalidClick(env: Env, hsts: boolean): Response {
  return (env.CLICK_FALLBACK_URL ? redirectResponse(env.CLICK_FALLBACK_URL, hsts) : null) ?? invalidLinkPage(hsts);
}

function answerClick(request: Request, env: Env, ctx: ExecutionContext, url: Target, raw: string, hsts: boolean): Response | Promise<Response> {
  return withToken(raw, url.hostname, env, CLICK, (token) => {
    if (!token) return invalidClick(env, hsts);
    if (wantsHttps(url, token.https, env)) return httpsRedirectResponse(new URL(request.url), request.method); // the https request records the click
    // Made before the click is recorded: a URL that cannot be a Location (only in tokens signed
    // before prepare refused such links) is an invalid link, and no click happened.
    const redirect = redirectResponse(token.url, hsts);
    if (!redirect) return invalidLinkPage(hsts);
    ctx.waitUntil(queueHit(request, env, token, "clicked"));
    return redirect;
  });
}

function answerUnsubscribe(request: Request, env: Env, ctx: ExecutionContext, url: Target, raw: string, hsts: boolean): Response | Promise<Response> {
  return withToken(raw, url.hostname, env, UNSUBSCRIBE, (token) => {
    if (!token) return invalidLinkPage(hsts);
    if (wantsHttps(url, token.https, env)) return httpsRedirectResponse(new URL(request.url), request.method);
    const scope = token.kind === "tag-unsubscribe" ? "tags" : "domain";
    // Link scanners follow GETs: a GET only shows the confirmation; POST (the form, or the
    // RFC 8058 one-click body "List-Unsubscribe=One-Click") unsubscribes.
    if (request.method !== "POST") return unsubscribeConfirmPage(token.recipient, scope, hsts);
    ctx.waitUntil(queueHit(request, env, token, "unsubscribed"));
    return unsubscribedPage(token.recipient, hsts);
  });
}
