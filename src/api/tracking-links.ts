// Tracking links for one message to one recipient: the open pixel, click links and the two
// unsubscribe links, signed with the domain's current key. Shared by prepare and the Messages API
// so that both apply tracking through the same code.
import type { DomainRecord } from "../db/schema";
import type { LinkMaker } from "../domain/rewrite-message";
import { secretsFromSettings, signToken, type TokenKind } from "../domain/token";
import type { Env } from "../env";
import { trackingHost } from "./domain-shapes";

/** Origin of the links: the shared base when configured (local runs), else the domain's host. */
export function linkOrigin(env: Env, domain: DomainRecord): string {
  return env.TRACKING_LINK_BASE ? env.TRACKING_LINK_BASE.replace(/\/+$/, "") : `${domain.webScheme}://${trackingHost(domain)}`;
}

export async function makeLinks(env: Env, domain: DomainRecord, message: { messageId: string; recipient: string; issuedAt: number }): Promise<LinkMaker> {
  const { currentVersion, secretFor } = secretsFromSettings(env);
  const secret = secretFor(currentVersion);
  if (!secret) throw new Error("TRACKING_SECRET is not set");
  const origin = linkOrigin(env, domain);
  const link = async (kind: TokenKind, path: string, url = "") => {
    const token = await signToken(
      { kind, version: currentVersion, issuedAt: message.issuedAt, webPrefix: domain.webPrefix, domain: domain.name, messageId: message.messageId, recipient: message.recipient, url },
      secret,
    );
    return `${origin}/${path}/${token}`;
  };
  return {
    openUrl: () => link("open", "o"),
    clickUrl: (url) => link("click", "c", url),
    unsubscribeUrl: await link("unsubscribe", "u"),
    tagUnsubscribeUrl: await link("tag-unsubscribe", "u"),
    isTrackingLink: (url) => url.startsWith(`${origin}/`),
  };
}

/** RFC 8058 one-click unsubscribe headers; Gmail and Yahoo require them of bulk senders. */
export function listUnsubscribeHeaders(links: LinkMaker): Record<"List-Unsubscribe" | "List-Unsubscribe-Post", string> {
  return { "List-Unsubscribe": `<${links.unsubscribeUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}
