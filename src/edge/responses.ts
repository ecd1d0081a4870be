// What the tracking host answers: the pixel, and small plain pages. A mail client never sees an
// error status it could show to the reader. `hsts` marks answers given over https on a domain's
// own tracking host, which carry Strict-Transport-Security.

/** The classic transparent 1x1 GIF (43 bytes). */
const PIXEL_GIF = Uint8Array.from(atob("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="), (c) => c.charCodeAt(0));

const NO_CACHE = "no-cache, no-store, must-revalidate, private, max-age=0";

/**
 * 180 days (unit: seconds): long enough that a reader's browser upgrades the host's old http links,
 * short enough that a customer who moves the host elsewhere is not tied to https for a year. No
 * includeSubDomains: the customer's other hosts are not ours.
 */
export const HSTS_MAX_AGE_SECONDS = 15_552_000;
const HSTS = `max-age=${HSTS_MAX_AGE_SECONDS}`;

/**
 * Set on every answer that leads the reader on (a click's redirect) or is a page: the tracking URL
 * holds the token, and no destination or page resource needs to see it in a Referer.
 */
const NO_REFERRER = "no-referrer";

// Cache-Control alone stops every cache that matters; Pragma and Expires only served HTTP/1.0.
// (Header sets made once per isolate and copied into each answer measured no faster than these
// object literals in bench/hot-path-parts.bench.ts, for the pixel or the redirect.)
export function pixelResponse(hsts = false): Response {
  return new Response(PIXEL_GIF, {
    headers: hsts
      ? { "content-type": "image/gif", "cache-control": NO_CACHE, "strict-transport-security": HSTS }
      : { "content-type": "image/gif", "cache-control": NO_CACHE },
  });
}

/**
 * A 302 to `url`, or null when `url` cannot be a Location (the runtime refuses CR, LF and NUL in
 * a header value): building the answer never throws. A 302 is never stored by a cache unless told
 * to (RFC 9111, section 4.2.2: it is not heuristically cacheable), so each click reaches the edge
 * without a Cache-Control header.
 */
export function redirectResponse(url: string, hsts = false): Response | null {
  try {
    const headers: Record<string, string> = hsts
      ? { location: url, "referrer-policy": NO_REFERRER, "strict-transport-security": HSTS }
      : { location: url, "referrer-policy": NO_REFERRER };
    return new Response(null, { status: 302, headers });
  } catch {
    return null;
  }
}

/**
 * The same URL over https, for a link made as https but requested over plain http: 301 for GET
 * and HEAD (what every image fetcher follows), 308 otherwise so a one-click POST stays a POST.
 */
export function httpsRedirectResponse(url: URL, method: string): Response {
  const target = new URL(url);
  target.protocol = "https:";
  target.port = "";
  const headers = { location: target.href, "cache-control": NO_CACHE, "referrer-policy": NO_REFERRER };
  return new Response(null, { status: method === "GET" || method === "HEAD" ? 301 : 308, headers });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function pageResponse(title: string, bodyHtml: string, hsts = false, status = 200): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}
button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#1d4ed8;color:#fff;cursor:pointer}
button:focus{outline:3px solid #93c5fd}</style></head><body><h1>${escapeHtml(title)}</h1>${bodyHtml}</body></html>`;
  const headers: Record<string, string> = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": NO_CACHE,
    "x-robots-tag": "noindex",
    "referrer-policy": NO_REFERRER,
  };
  if (hsts) headers["strict-transport-security"] = HSTS;
  return new Response(html, { status, headers });
}

export function invalidLinkPage(hsts = false): Response {
  return pageResponse(
    "This link is not valid",
    "<p>The link you followed is damaged or no longer valid. If you copied it, check that nothing was cut off.</p>",
    hsts,
    404,
  );
}

/** Everything on a domain's tracking host but the tracking paths and robots.txt. */
export function notFoundPage(hsts = false): Response {
  return pageResponse("Not found", "<p>There is nothing here.</p>", hsts, 404);
}

const ROBOTS_TXT = "User-agent: *\nDisallow: /\n";

export function robotsResponse(): Response {
  return new Response(ROBOTS_TXT, { headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=86400" } });
}

export function unsubscribeConfirmPage(recipient: string, scope: "domain" | "tags", hsts = false): Response {
  const what = scope === "tags" ? "this kind of email" : "these emails";
  return pageResponse(
    "Unsubscribe",
    `<p>Stop sending ${what} to <strong>${escapeHtml(recipient)}</strong>?</p>
<form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit">Unsubscribe</button></form>`,
    hsts,
  );
}

export function unsubscribedPage(recipient: string, hsts = false): Response {
  return pageResponse("You are unsubscribed", `<p><strong>${escapeHtml(recipient)}</strong> will not get these emails any more.</p>`, hsts);
}
