// What the tracking host answers: the pixel, and small plain pages. A mail client never sees an
// error status it could show to the reader.

/** The classic transparent 1x1 GIF (43 bytes). */
const PIXEL_GIF = Uint8Array.from(
  atob("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="),
  (c) => c.charCodeAt(0),
);

const NO_CACHE = "no-cache, no-store, must-revalidate, private, max-age=0";

// Cache-Control alone stops every cache that matters; Pragma and Expires only served HTTP/1.0.
export function pixelResponse(): Response {
  return new Response(PIXEL_GIF, { headers: { "content-type": "image/gif", "cache-control": NO_CACHE } });
}

export function redirectResponse(url: string): Response {
  return new Response(null, { status: 302, headers: { location: url, "cache-control": NO_CACHE } });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function pageResponse(title: string, bodyHtml: string, status = 200): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}
button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#1d4ed8;color:#fff;cursor:pointer}
button:focus{outline:3px solid #93c5fd}</style></head><body><h1>${escapeHtml(title)}</h1>${bodyHtml}</body></html>`;
  return new Response(html, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": NO_CACHE, "x-robots-tag": "noindex" },
  });
}

export function invalidLinkPage(): Response {
  return pageResponse("This link is not valid", "<p>The link you followed is damaged or no longer valid. If you copied it, check that nothing was cut off.</p>", 404);
}

export function unsubscribeConfirmPage(recipient: string, scope: "domain" | "tags"): Response {
  const what = scope === "tags" ? "this kind of email" : "these emails";
  return pageResponse(
    "Unsubscribe",
    `<p>Stop sending ${what} to <strong>${escapeHtml(recipient)}</strong>?</p>
<form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit">Unsubscribe</button></form>`,
  );
}

export function unsubscribedPage(recipient: string): Response {
  return pageResponse("You are unsubscribed", `<p><strong>${escapeHtml(recipient)}</strong> will not get these emails any more.</p>`);
}
