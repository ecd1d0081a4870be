// Which links can be tracked, and the destination a click token carries: one the edge can always
// put in a Location header. Pure; used by the message rewriter for HTML and text links alike.

const HTTP_URL = /^https?:\/\//i;
/** C0 controls and DEL: a Location cannot carry CR, LF or NUL, and a browser drops or rejects the rest. */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** What a Location carries as written: printable ASCII, no space. */
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/**
 * The destination to sign for an href (entities already decoded, whitespace trimmed), or null when
 * the link is to stay as it was: not an absolute http(s) URL, not one the URL parser accepts, or
 * holding a control character (`&#10;`, `&#13;&#10;`, `&#0;` in HTML decode to those).
 * A printable-ASCII href is kept exactly as written, so the clicked event's `url` is the sender's;
 * any other (non-ASCII text, spaces) is signed in the URL parser's form, which is ASCII
 * (percent-encoded, the host in punycode): the very URL a browser would open for the href.
 */
export function clickDestination(href: string): string | null {
  if (!HTTP_URL.test(href) || CONTROL.test(href) || !URL.canParse(href)) return null;
  return PRINTABLE_ASCII.test(href) ? href : new URL(href).href;
}
