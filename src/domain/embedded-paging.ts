// Paging links as one family of clients mangles them. Ghost's Mailgun analytics (driving mailgun-js)
// turns `paging.next` into a path by removing only Mailgun's own origin,
// `next.replace(/https:\/\/api\.(eu\.)?mailgun\.net\/v3/, "")`, and mailgun-js then prefixes its
// endpoint, so a Tidings link arrives as GET /v3http://host:port/v3/{domain}/events/{token}. Pure.
import { isOwnHost } from "./hosts";

const EMBEDDED_EVENTS_LINK = /^\/v3https?:\/+([^/?#]+)\/v3\/([^/?#]+)\/events\/([^/?#]+)$/;

export interface EmbeddedEventsLink {
  /** The host (with its port) the link was made for. */
  host: string;
  /** Still percent-encoded, as in the link. */
  domain: string;
  token: string;
}

/** The events paging link inside a mangled path, or null when the path is not one. */
export function unwrapEventsLink(path: string): EmbeddedEventsLink | null {
  const match = EMBEDDED_EVENTS_LINK.exec(path);
  return match ? { host: match[1]!, domain: match[2]!, token: match[3]! } : null;
}

/**
 * Whether a host named inside a path is one of this deployment's: the request's own host, or one of
 * the shared hosts (SHARED_HOSTS, hostnames without ports). A link to anywhere else is not followed.
 */
export function isPagingHostOurs(host: string, requestHost: string, sharedHostsSetting: string): boolean {
  if (host.toLowerCase() === requestHost.toLowerCase()) return true;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  return isOwnHost(hostname, sharedHostsSetting);
}
