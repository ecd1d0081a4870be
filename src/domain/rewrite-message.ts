// Applies tracking to a message's HTML and text parts: open pixel, click links, unsubscribe
// placeholders and footers. HTML goes through the runtime's HTMLRewriter (a streaming HTML parser),
// never through regexes; the text part is plain text, where a URL pattern is the right tool.
import { clickDestination } from "./click-destination";
import type { EffectiveTracking } from "./tracking-settings";

export interface LinkMaker {
  openUrl(): Promise<string>;
  /** The tracked link for a destination, or null when it cannot be signed (its token would be too long): the link then stays as it was. */
  clickUrl(destination: string): Promise<string | null>;
  unsubscribeUrl: string;
  tagUnsubscribeUrl: string;
  /** True for links that already point at the tracking host (e.g. the unsubscribe link). */
  isTrackingLink(url: string): boolean;
}

export interface MessageParts {
  html?: string;
  text?: string;
}

export interface Footers {
  html: string;
  text: string;
}

/** The destination to sign for a link, or null to leave it as it was (see click-destination.ts). */
function destinationOf(url: string, links: LinkMaker): string | null {
  return links.isTrackingLink(url) ? null : clickDestination(url);
}
const TEXT_URL = /https?:\/\/[^\s<>"'{}]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?]+$/;

/** Trims what ends a sentence rather than a URL: punctuation and unbalanced closing brackets. */
export function trimTextUrl(candidate: string): string {
  let url = candidate;
  for (;;) {
    const before = url;
    url = url.replace(TRAILING_PUNCTUATION, "");
    for (const [open, close] of [
      ["(", ")"],
      ["[", "]"],
    ] as const) {
      if (url.endsWith(close) && url.split(close).length > url.split(open).length) url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

function substitutePlaceholders(content: string, links: LinkMaker): string {
  return content.replaceAll("%tag_unsubscribe_url%", links.tagUnsubscribeUrl).replaceAll("%unsubscribe_url%", links.unsubscribeUrl);
}

/** HTMLRewriter hands attribute values over as written; undo the entities a URL may contain. */
export function decodeAttributeEntities(value: string): string {
  return value.replace(/&(amp|quot|apos|lt|gt|#\d+|#x[0-9a-f]+);/gi, (entity, name: string) => {
    const lower = name.toLowerCase();
    if (lower === "amp") return "&";
    if (lower === "quot") return '"';
    if (lower === "apos") return "'";
    if (lower === "lt") return "<";
    if (lower === "gt") return ">";
    const code = lower.startsWith("#x") ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

async function rewriteHtml(html: string, tracking: EffectiveTracking, footer: string, links: LinkMaker): Promise<string> {
  const pixel = tracking.opens
    ? `<img width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" src="${escapeAttribute(await links.openUrl())}">`
    : "";
  const bottom = (tracking.pixelTop ? "" : pixel) + footer;
  let sawBody = false;
  let closedBody = false;
  const clickCache = new Map<string, Promise<string | null>>();
  const rewriter = new HTMLRewriter();
  if (tracking.clicks !== "no") {
    rewriter.on("a[href], area[href]", {
      async element(element) {
        const destination = destinationOf(decodeAttributeEntities(element.getAttribute("href") ?? "").trim(), links);
        if (destination === null) return;
        let link = clickCache.get(destination);
        if (!link) clickCache.set(destination, (link = links.clickUrl(destination)));
        const tracked = await link;
        if (tracked !== null) element.setAttribute("href", tracked);
      },
    });
  }
  rewriter.on("body", {
    element(body) {
      if (sawBody) return;
      sawBody = true;
      if (tracking.pixelTop && pixel) body.prepend(pixel, { html: true });
      body.onEndTag((end) => {
        closedBody = true;
        if (bottom) end.before(bottom, { html: true });
      });
    },
  });
  rewriter.onDocument({
    end(end) {
      // Fragments, and documents whose </body> was left out, get the additions at the end.
      if (!closedBody && bottom) end.append(bottom, { html: true });
    },
  });
  const out = await rewriter.transform(new Response(html)).text();
  // A fragment without <body>: the top pixel goes first.
  return !sawBody && tracking.pixelTop ? pixel + out : out;
}

async function rewriteText(text: string, tracking: EffectiveTracking, links: LinkMaker): Promise<string> {
  if (tracking.clicks !== "yes") return text;
  const replacements = new Map<string, Promise<string | null>>();
  const found: Array<{ start: number; end: number; destination: string }> = [];
  for (const match of text.matchAll(TEXT_URL)) {
    const url = trimTextUrl(match[0]);
    const destination = destinationOf(url, links);
    if (destination === null) continue;
    found.push({ start: match.index, end: match.index + url.length, destination });
    if (!replacements.has(destination)) replacements.set(destination, links.clickUrl(destination));
  }
  let out = "";
  let at = 0;
  for (const { start, end, destination } of found) {
    const tracked = await replacements.get(destination)!;
    if (tracked === null) continue; // left as written: copied with the text that follows
    out += text.slice(at, start) + tracked;
    at = end;
  }
  return out + text.slice(at);
}

/**
 * Footers are appended first and placeholders substituted everywhere, so the footer's
 * %unsubscribe_url% becomes a real link and the unsubscribe links are then left alone.
 */
export async function rewriteMessage(parts: MessageParts, tracking: EffectiveTracking, footers: Footers, links: LinkMaker): Promise<MessageParts> {
  const result: MessageParts = {};
  if (parts.html !== undefined) {
    const html = substitutePlaceholders(parts.html, links);
    const footer = tracking.unsubscribe ? substitutePlaceholders(footers.html, links) : "";
    result.html = await rewriteHtml(html, tracking, footer, links);
  }
  if (parts.text !== undefined) {
    const text = substitutePlaceholders(parts.text + (tracking.unsubscribe ? footers.text : ""), links);
    result.text = await rewriteText(text, tracking, links);
  }
  return result;
}
