// Where a panel form may send the browser back to (`back=`): a page of the panel on this origin,
// never anywhere else. Pure: the request's URL is the only input besides the value.

/** Backslashes (read as slashes by browsers), encoded slashes and controls: refused before any resolving. */
const SUSPECT = /[\\\u0000-\u001f\u007f]|%2f|%5c/i;

/**
 * `back` as a path and query under /app/ on the request's own origin, resolved (dot segments
 * removed) against that origin; null for anything else, which the caller replaces by its default.
 * `/app/..//evil.example/x` resolves to `//evil.example/x`, which is not under /app/: refused.
 */
export function panelBackPath(back: string, requestUrl: string): string | null {
  if (!back.startsWith("/") && !back.startsWith("http")) return null; // only paths, or absolute URLs checked below
  if (SUSPECT.test(back)) return null;
  const origin = new URL(requestUrl).origin;
  let url: URL;
  try {
    url = new URL(back, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin || url.username || url.password || !url.pathname.startsWith("/app/")) return null;
  return `${url.pathname}${url.search}`;
}
