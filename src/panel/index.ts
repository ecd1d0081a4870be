// The web control panel at /app: sign-in with any user key (admin, developer or basic; the API_KEY
// secret is an admin key), a signed session cookie naming that key, checked again on every request,
// CSRF checks on every changing form, and the Logs, Analytics, Suppressions, Domains, Webhooks and
// Keys pages as far as the key's role goes (PANEL_ACCESS; the API's own table refuses the rest
// too), and Settings (the time zone of dates, a cookie). It reads and writes only through the API
// app (api-client.ts), as the signed-in key.
// Bindings: API_KEY, DB (keys), plus the API's.
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { html } from "hono/html";
import { judgeSignIn, THROTTLED_MESSAGE } from "../api/auth-throttle";
import { authenticateKey, liveKeyById } from "../api/key-auth";
import { mayCall, type UserRole } from "../domain/access";
import type { Env } from "../env";
import { PanelError } from "./api-client";
import type { PanelEnv } from "./context";
import { faviconResponse } from "./favicon";
import { PANEL_CSS, renderPage } from "./layout";
import { analyticsPages } from "./pages/analytics";
import { domainsPages } from "./pages/domains";
import { keysPages } from "./pages/keys";
import { logsPages } from "./pages/logs";
import { settingsPages } from "./pages/settings";
import { suppressionsPages } from "./pages/suppressions";
import { webhooksPages } from "./pages/webhooks";
import { checkCsrf, csrfToken, newSessionCookieValue, readSession, SESSION_COOKIE, sessionCookie } from "./session";
import { TIME_ZONE_COOKIE, timeZoneOr } from "./time";

const panel = new Hono<PanelEnv>().basePath("/app");

panel.get("/static/panel.css", (c) => c.body(PANEL_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=3600" }));

const isHttps = (url: string) => url.startsWith("https:");

panel.get("/sign-in", (c) =>
  renderPage(c, {
    title: "Sign in",
    body: html`<form method="post" action="/app/sign-in" class="stack">
  <label for="api-key">API key <input id="api-key" name="api_key" type="password" autocomplete="current-password" required autofocus></label>
  <p class="muted">The key printed by <code>npm start</code> (the <code>API_KEY</code> secret when deployed), or an admin, developer or basic key made on the Keys page.</p>
  <div><button type="submit">Sign in</button></div>
</form>`,
  }),
);

panel.post("/sign-in", async (c) => {
  const form = await c.req.formData().catch(() => null);
  const given = String(form?.get("api_key") ?? "");
  const principal = c.env.API_KEY ? await authenticateKey(c.env, given) : null;
  // Every sign-in counts against the address's attempts; past the limit even the right key gets this page.
  const outcome = await judgeSignIn(c.env, c.req.header("cf-connecting-ip") ?? null, !!principal);
  if (outcome === "throttled") {
    return renderPage(c, { title: "Try again later", body: html`<p class="error" role="alert">${THROTTLED_MESSAGE}.</p>` }, 429);
  }
  if (outcome === "refused" || !principal) {
    return c.redirect(`/app/sign-in?error=${encodeURIComponent("That is not the API key.")}`, 303);
  }
  if (principal.role === "sending") {
    return c.redirect(`/app/sign-in?error=${encodeURIComponent("A domain sending key only sends mail: sign in with an admin, developer or basic key.")}`, 303);
  }
  const key = { id: principal.id, role: principal.role };
  c.header("set-cookie", sessionCookie(await newSessionCookieValue(c.env.API_KEY, Date.now(), key), isHttps(c.req.url)));
  return c.redirect("/app", 303);
});

/**
 * The least role of each part of the panel, beyond a session: webhooks and stored messages need a
 * developer key (the API refuses basic keys there), the Keys pages an admin key, and every form
 * that changes something (any POST but signing out) a developer key.
 */
const PANEL_ACCESS: ReadonlyArray<readonly [string, UserRole]> = [
  ["/app/keys", "admin"],
  ["/app/webhooks", "developer"],
  ["/app/logs/message", "developer"],
];

function leastRole(method: string, path: string): UserRole {
  const section = PANEL_ACCESS.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`))?.[1];
  if (section) return section;
  // Signing out and choosing a time zone change nothing but the caller's own browser.
  return method === "POST" && path !== "/app/sign-out" && path !== "/app/settings" ? "developer" : "basic";
}

// Everything below needs a session; every POST needs the session's CSRF token too.
panel.use("*", async (c, next) => {
  const session = await readSession(c.env.API_KEY, getCookie(c, SESSION_COOKIE), Date.now());
  // The session's key must still work, with the role it signed in with: a deleted or expired key
  // ends its sessions at the next request.
  const principal = session ? await liveKeyById(c.env, session.key.id) : null;
  if (!session || !principal || principal.role !== session.key.role) {
    if (session) c.header("set-cookie", sessionCookie("", isHttps(c.req.url), 0));
    if (c.req.method === "GET") return c.redirect("/app/sign-in", 303);
    return c.text("Your session has ended. Sign in again.", 401);
  }
  c.set("session", session);
  c.set("principal", principal);
  c.set("csrf", await csrfToken(c.env.API_KEY, session));
  c.set("timeZone", timeZoneOr(getCookie(c, TIME_ZONE_COOKIE)));
  if (c.req.method === "POST") {
    const type = c.req.header("content-type") ?? "";
    const form =
      type.startsWith("multipart/form-data") || type.startsWith("application/x-www-form-urlencoded") ? await c.req.formData().catch(() => null) : null;
    const token = form?.get("_csrf");
    if (!(await checkCsrf(c.env.API_KEY, session, typeof token === "string" ? token : undefined))) {
      return c.text("This form has expired or did not come from the panel. Go back, reload the page and try again.", 403);
    }
  }
  const least = leastRole(c.req.method, c.req.path);
  if (!mayCall(least, principal, null)) {
    const why = `This needs ${least === "admin" ? "an admin" : "a developer or admin"} key; you signed in with a ${principal.role} key.`;
    if (c.req.method === "GET")
      return renderPage(c, { title: "Not allowed", body: html`<p class="error" role="alert">${why}</p><p><a href="/app">Back to the panel</a></p>` }, 403);
    return c.text(why, 403);
  }
  await next();
});

panel.post("/sign-out", (c) => {
  c.header("set-cookie", sessionCookie("", isHttps(c.req.url), 0));
  return c.redirect("/app/sign-in?notice=Signed%20out.", 303);
});

panel.get("/", (c) => c.redirect("/app/logs", 303));
panel.route("/logs", logsPages);
panel.route("/analytics", analyticsPages);
panel.route("/suppressions", suppressionsPages);
panel.route("/domains", domainsPages);
panel.route("/webhooks", webhooksPages);
panel.route("/keys", keysPages);
panel.route("/settings", settingsPages);

panel.notFound((c) => renderPage(c, { title: "Not found", body: html`<p>There is no such page. <a href="/app">Back to the panel</a>.</p>` }, 404));
panel.onError((error, c) => {
  if (error instanceof PanelError)
    return renderPage(
      c,
      { title: "Something went wrong", body: html`<p class="error" role="alert">${error.message}</p><p><a href="/app">Back to the panel</a></p>` },
      400,
    );
  console.error(JSON.stringify({ msg: "panel error", path: c.req.path, error: String(error), stack: (error as Error).stack }));
  return c.text("Internal error", 500);
});

/**
 * Panel requests and /favicon.ico, or null for everything else (the API). A browser at `/` is sent
 * to the panel. Only the deployment's own hosts get here (src/edge answers tracking hosts first).
 */
export function handlePanel(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> | Response | null {
  const { pathname } = new URL(request.url);
  if (pathname === "/app" || pathname.startsWith("/app/")) return panel.fetch(request, env, ctx);
  if (pathname === "/favicon.ico" && (request.method === "GET" || request.method === "HEAD")) return faviconResponse();
  if (pathname === "/" && request.method === "GET" && (request.headers.get("accept") ?? "").includes("text/html")) {
    return Response.redirect(new URL("/app", request.url).href, 303);
  }
  return null;
}
