// Settings: the time zone the panel writes dates in (UTC unless chosen), kept in a cookie and
// checked with Intl on the way in and on every request. Any signed-in key may choose its own.
import { Hono } from "hono";
import { html, raw } from "hono/html";
import { panelBackPath } from "../back-path";
import type { PanelEnv } from "../context";
import { csrfField, renderPage } from "../layout";
import { backTo, formText, when } from "../shared";
import { isTimeZone, TIME_ZONE_COOKIE, TIME_ZONE_COOKIE_SECONDS, timeZoneChoices } from "../time";

export const settingsPages = new Hono<PanelEnv>()
  .get("/", (c) => {
    const zone = c.get("timeZone");
    const back = panelBackPath(c.req.query("back") ?? "", c.req.url) ?? "/app/logs";
    return renderPage(c, {
      title: "Settings",
      body: html`<form method="post" action="/app/settings" class="stack">${csrfField(c)}<input type="hidden" name="back" value="${back}">
  <label>Time zone for dates <select name="time_zone" id="time-zone">${timeZoneChoices().map((z) => html`<option${z === zone ? raw(" selected") : ""}>${z}</option>`)}</select></label>
  <p class="muted">Now: <span id="time-now">${when(c, Math.floor(Date.now() / 1000))}</span>. Kept in this browser only.</p>
  <div><button type="submit">Save</button></div>
</form>`,
    });
  })
  .post("/", async (c) => {
    const zone = await formText(c, "time_zone");
    const back = panelBackPath(await formText(c, "back"), c.req.url) ?? "/app/logs";
    if (!isTimeZone(zone)) return backTo(c, "/app/settings", { error: `${zone || "(nothing)"} is not a time zone: choose one from the list.` });
    const secure = c.req.url.startsWith("https:") ? "; Secure" : "";
    c.header("set-cookie", `${TIME_ZONE_COOKIE}=${encodeURIComponent(zone)}; Path=/app; SameSite=Strict; Max-Age=${TIME_ZONE_COOKIE_SECONDS}${secure}`);
    return backTo(c, back, { notice: `Dates are shown in ${zone}.` });
  });
