// Which tracking applies to a message: the domain's settings, overridden per message by Mailgun's
// o:tracking* options (a message's own option wins, as in Mailgun).

export type ClickMode = "no" | "yes" | "htmlonly";

export interface DomainTracking {
  openActive: boolean;
  openPlaceAtTop: boolean;
  clickActive: ClickMode;
  unsubscribeActive: boolean;
  unsubscribeHtmlFooter: string;
  unsubscribeTextFooter: string;
}

export interface MessageTrackingOptions {
  tracking?: string | boolean;
  opens?: string | boolean;
  clicks?: string | boolean;
  pixelTop?: string | boolean;
}

export interface EffectiveTracking {
  opens: boolean;
  pixelTop: boolean;
  clicks: ClickMode;
  unsubscribe: boolean;
}

export const DEFAULT_HTML_FOOTER = '\n<br>\n<p><a href="%unsubscribe_url%">unsubscribe</a></p>\n';
export const DEFAULT_TEXT_FOOTER = "\n\nTo unsubscribe click: <%unsubscribe_url%>\n\n";

/** A new domain's tracking: as in Mailgun, opens, clicks and unsubscribes start off. */
export const DEFAULT_TRACKING: DomainTracking = {
  openActive: false,
  openPlaceAtTop: false,
  clickActive: "no",
  unsubscribeActive: false,
  unsubscribeHtmlFooter: DEFAULT_HTML_FOOTER,
  unsubscribeTextFooter: DEFAULT_TEXT_FOOTER,
};

/** yes/no/true/false (any case, or a boolean) to a boolean; null when it is none of them. */
export function parseYesNo(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string") return null;
  const v = value.trim().toLowerCase();
  if (v === "yes" || v === "true") return true;
  if (v === "no" || v === "false") return false;
  return null;
}

/** Click tracking also takes "htmlonly": active, but only links in the HTML part are rewritten. */
export function parseClickMode(value: unknown): ClickMode | null {
  if (typeof value === "string" && value.trim().toLowerCase() === "htmlonly") return "htmlonly";
  const flag = parseYesNo(value);
  return flag === null ? null : flag ? "yes" : "no";
}

/** Throws RangeError naming the option when a value is not one Mailgun accepts. */
export function resolveTracking(domain: DomainTracking, message: MessageTrackingOptions): EffectiveTracking {
  const option = <T>(name: string, value: unknown, parse: (v: unknown) => T | null): T | undefined => {
    if (value === undefined) return undefined;
    const parsed = parse(value);
    if (parsed === null) throw new RangeError(`${name} must be yes, no, true or false${name.includes("click") || name === "o:tracking" ? " or htmlonly" : ""}`);
    return parsed;
  };
  const both = option("o:tracking", message.tracking, parseClickMode);
  const opens = option("o:tracking-opens", message.opens, parseYesNo);
  const clicks = option("o:tracking-clicks", message.clicks, parseClickMode);
  const pixelTop = option("o:tracking-pixel-location-top", message.pixelTop, parseYesNo);
  return {
    opens: opens ?? (both === undefined ? domain.openActive : both !== "no"),
    pixelTop: pixelTop ?? domain.openPlaceAtTop,
    clicks: clicks ?? both ?? domain.clickActive,
    unsubscribe: domain.unsubscribeActive,
  };
}
