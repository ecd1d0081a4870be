// Tracking links for one message to one recipient: the open pixel, click links and the two
// unsubscribe links, made with the domain's current key in the format TRACKING_TOKEN_FORMAT names.
// Shared by prepare and the Messages API so that both apply tracking through the same code, and the
// one place that decides a link's scheme.
import type { SendingDomain } from "../db/domains";
import type { LinkMaker } from "../domain/rewrite-message";
import { secretsFromSettings, signToken, signTokenIfFits, type TokenKind, type TokenPayload, tokenFormatFromSettings } from "../domain/token";
import type { Env } from "../env";
import { trackingHost } from "./domain-shapes";

/**
 * Origin of the links: the shared base when configured (local runs), else the domain's tracking
 * host, over https only once the domain asked for https AND its host's certificate is active, so
 * no mail goes out with a link that fails TLS. `https` is also signed into the tokens, so the edge
 * can send a plain-http request for such a link to https without looking anything up.
 */
export function linkOrigin(env: Env, domain: SendingDomain): { origin: string; https: boolean } {
  if (env.TRACKING_LINK_BASE) return { origin: env.TRACKING_LINK_BASE.replace(/\/+$/, ""), https: false };
  const https = domain.webScheme === "https" && domain.httpsReady;
  return { origin: `${https ? "https" : "http"}://${trackingHost(domain)}`, https };
}

export async function makeLinks(env: Env, domain: SendingDomain, message: { messageId: string; recipient: string; issuedAt: number }): Promise<LinkMaker> {
  const { currentVersion, secretFor } = secretsFromSettings(env);
  const secret = secretFor(currentVersion);
  if (!secret) throw new Error("TRACKING_SECRET is not set");
  const format = tokenFormatFromSettings(env);
  const { origin, https } = linkOrigin(env, domain);
  const payload = (kind: TokenKind, url = ""): TokenPayload => ({
    kind,
    version: currentVersion,
    issuedAt: message.issuedAt,
    webPrefix: domain.webPrefix,
    domain: domain.name,
    messageId: message.messageId,
    recipient: message.recipient,
    url,
    https,
  });
  const link = async (kind: TokenKind, path: string) => `${origin}/${path}/${await signToken(payload(kind), secret, format)}`;
  return {
    openUrl: () => link("open", "o"),
    // A destination whose token would pass the edge's cap is left untracked rather than sent as a
    // link that would always answer "not valid".
    clickUrl: async (url) => {
      const token = await signTokenIfFits(payload("click", url), secret, format);
      return token === null ? null : `${origin}/c/${token}`;
    },
    unsubscribeUrl: await link("unsubscribe", "u"),
    tagUnsubscribeUrl: await link("tag-unsubscribe", "u"),
    isTrackingLink: (url) => url.startsWith(`${origin}/`),
  };
}

/** RFC 8058 one-click unsubscribe headers; Gmail and Yahoo require them of bulk senders. */
export function listUnsubscribeHeaders(links: LinkMaker): Record<"List-Unsubscribe" | "List-Unsubscribe-Post", string> {
  return { "List-Unsubscribe": `<${links.unsubscribeUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}
