// The web control panel at /app: sign-in with the API key, a signed session cookie, CSRF checks
// on every changing form, and the Logs, Analytics, Suppressions, Domains and Webhooks pages. It
// reads and writes only through the API app (api-client.ts). Bindings: API_KEY, plus the API's.
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { html } from "hono/html";
import { constantTimeEquals } from "../api/auth";
import { judgeSignIn, THROTTLED_MESSAGE } from "../api/auth-throttle";
import type { Env } from "../env";
import { PanelError } from "./api-client";
import type { PanelEnv } from "./context";
import { PANEL_CSS, renderPage } from "./layout";
import { analyticsPages } from "./pages/analytics";
import { domainsPages } from "./pages/domains";
import { logsPages } from "./pages/logs";
import { suppressionsPages } from "./pages/suppressions";
import { webhooksPages } from "./pages/webhooks";
import { checkCsrf, csrfToken, newSessionCookieValue, readSession, SESSION_COOKIE, sessionCookie } from "./session";

const panel = new Hono<PanelEnv>().basePath("/app");

panel.get("/static/panel.css", (c) =>
  c.body(PANEL_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=3600" }),
);

const isHttps = (url: string) => url.startsWith("https:");

panel.get("/sign-in", (c) =>
  renderPage(c, {
    title: "Sign in",
    body: html`<form method="post" action="/app/sign-in" class="stack">
  <label for="api-key">API key <input id="api-key" name="api_key" type="password" autocomplete="current-password" required autofocus></label>
  <p class="muted">The key printed by <code>npm start</code> (the <code>API_KEY</code> secret when deployed).</p>
  <div><button type="submit">Sign in</button></div>
</form>`,
  }),
);

panel.post("/sign-in", async (c) => {
  const form = await c.req.formData().catch(() => null);
  const given = String(form?.get("api_key") ?? "");
  const correct = !!c.env.API_KEY && (await constantTimeEquals(given, c.env.API_KEY));
  // Every sign-in counts against the address's attempts; past the limit even the right key gets this page.
  const outcome = await judgeSignIn(c.env, c.req.header("cf-connecting-ip") ?? null, correct);
  if (outcome === "throttled") {
    return renderPage(c, { title: "Try again later", body: html`<p class="error" role="alert">${THROTTLED_MESSAGE}.</p>` }, 429);
  }
  if (outcome === "refused") {
    return c.redirect(`/app/sign-in?error=${encodeURIComponent("That is not the API key.")}`, 303);
  }
  c.header("set-cookie", sessionCookie(await newSessionCookieValue(c.env.API_KEY, Date.now()), isHttps(c.req.url)));
  return c.redirect("/app", 303);
});

// Everything below needs a session; every POST needs the session's CSRF token too.
panel.use("*", async (c, next) => {
  const session = await readSession(c.env.API_KEY, getCookie(c, SESSION_COOKIE), Date.now());
  if (!session) {
    if (c.req.method === "GET") return c.redirect("/app/sign-in", 303);
    return c.text("Your session has ended. Sign in again.", 401);
  }
  c.set("session", session);
  c.set("csrf", await csrfToken(c.env.API_KEY, session));
  if (c.req.method === "POST") {
    const type = c.req.header("content-type") ?? "";
    const form = type.startsWith("multipart/form-data") || type.startsWith("application/x-www-form-urlencoded") ? await c.req.formData().catch(() => null) : null;
    const token = form?.get("_csrf");
    if (!(await checkCsrf(c.env.API_KEY, session, typeof token === "string" ? token : undefined))) {
      return c.text("This form has expired or did not come from the panel. Go back, reload the page and try again.", 403);
    }
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

panel.notFound((c) => renderPage(c, { title: "Not found", body: html`<p>There is no such page. <a href="/app">Back to the panel</a>.</p>` }, 404));
panel.onError((error, c) => {
  if (error instanceof PanelError) return renderPage(c, { title: "Something went wrong", body: html`<p class="error" role="alert">${error.message}</p><p><a href="/app">Back to the panel</a></p>` }, 400);
  console.error(JSON.stringify({ msg: "panel error", path: c.req.path, error: String(error), stack: (error as Error).stack }));
  return c.text("Internal error", 500);
});

/** Panel requests, or null for everything else (the API). A browser at `/` is sent to the panel. */
export function handlePanel(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> | Response | null {
  const { pathname } = new URL(request.url);
  if (pathname === "/app" || pathname.startsWith("/app/")) return panel.fetch(request, env, ctx);
  if (pathname === "/" && request.method === "GET" && (request.headers.get("accept") ?? "").includes("text/html")) {
    return Response.redirect(new URL("/app", request.url).href, 303);
  }
  return null;
}
