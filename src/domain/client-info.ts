// Who made a tracking hit: client, OS, device, and whether it was a machine. Automated hits are
// classified and kept, never dropped, so stats can count them apart (design.md, "Tracking links").
import { isbot } from "isbot";
// ua-parser-js 1.x is CommonJS: its module value is the UAParser constructor itself.
import UAParser from "ua-parser-js";

export type BotKind = "" | "apple" | "gmail" | "generic";

/**
 * A click (or unsubscribe) this soon after the link was made is a scanner following links on
 * delivery, not a person: nobody opens, reads and clicks within 5 seconds. Unit: seconds.
 */
export const HUMAN_MIN_SECONDS_TO_CLICK = 5;

/** Apple's ASNs: Mail Privacy Protection fetches every image through Apple-owned proxies. */
const APPLE_ASNS = new Set([714, 6185]);
/** Hosting networks where link scanners and security gateways run; people rarely browse from these. */
const DATA_CENTRE_ORGS =
  /amazon|aws|google cloud|microsoft|azure|digitalocean|ovh|hetzner|linode|akamai connected cloud|alibaba|oracle cloud|tencent cloud|choopa|vultr|leaseweb|scaleway|contabo/i;
/** Security gateways and link checkers that do not always look like crawlers to isbot. */
const SCANNER_AGENTS =
  /barracuda|mimecast|proofpoint|forcepoint|symantec|messagelabs|trend ?micro|safelinks|urldefense|linkscanner|bitdefender|sophos|fortiguard|cisco|ironport|zscaler|checkpoint|paloalto/i;
const LIBRARY_AGENTS = /^(curl|wget|python|java\/|go-http-client|okhttp|axios|node-fetch|undici|libwww|httpclient|ruby|php)/i;
const EMAIL_CLIENTS = /outlook|thunderbird|airmail|spark|ms-office|microsoft office|yahoomailproxy/i;

export interface HitContext {
  event: "opened" | "clicked" | "unsubscribed";
  method: string;
  userAgent: string;
  asn?: number;
  asOrganization?: string;
  /** Seconds between the link being made and the hit. */
  secondsSinceIssued: number;
}

/**
 * Distinct user agents whose parse an isolate keeps. Mail is opened by a few hundred clients, so
 * the regex-heavy part (isbot and ua-parser-js, ~20 µs a hit) is done once per agent, not per hit;
 * a full cache is emptied and starts again. Unit: entries (each at most 2,048 characters of agent).
 */
export const MAX_REMEMBERED_USER_AGENTS = 1000;

/** What an agent string alone says: the facts the classification and description read. */
interface AgentFacts {
  automated: boolean;
  browser: string | undefined;
  os: string | undefined;
  deviceType: string;
}

const agents = new Map<string, AgentFacts>();

function agentFacts(ua: string): AgentFacts {
  let facts = agents.get(ua);
  if (facts) return facts;
  const parsed = new UAParser(ua).getResult();
  facts = {
    automated: ua === "" || isbot(ua) || SCANNER_AGENTS.test(ua) || LIBRARY_AGENTS.test(ua),
    browser: parsed.browser.name,
    os: parsed.os.name,
    deviceType: toDeviceType(parsed.device.type, parsed.os.name),
  };
  if (agents.size >= MAX_REMEMBERED_USER_AGENTS) agents.clear();
  agents.set(ua, facts);
  return facts;
}

export function classifyBot(hit: HitContext): BotKind {
  const ua = hit.userAgent.trim();
  if (/GoogleImageProxy|ggpht\.com/i.test(ua)) return "gmail";
  if (ua === "Mozilla/5.0" || (hit.asn !== undefined && APPLE_ASNS.has(hit.asn))) return "apple";
  if (hit.method === "HEAD") return "generic";
  if (agentFacts(ua).automated) return "generic";
  if (hit.asOrganization && DATA_CENTRE_ORGS.test(hit.asOrganization)) return "generic";
  if (hit.event !== "opened" && hit.secondsSinceIssued < HUMAN_MIN_SECONDS_TO_CLICK) return "generic";
  return "";
}

export interface ClientInfo {
  "client-name": string;
  "client-os": string;
  "client-type": string;
  "device-type": string;
  "user-agent": string;
  bot: BotKind;
}

export function describeClient(userAgent: string, bot: BotKind): ClientInfo {
  const { browser, os, deviceType } = agentFacts(userAgent);
  return {
    "client-name": clientName(userAgent, bot, browser),
    "client-os": os ?? "unknown",
    "client-type": toClientType(userAgent, bot, deviceType, browser),
    "device-type": deviceType,
    "user-agent": userAgent,
    bot,
  };
}

const NAMED_EMAIL_CLIENTS: Array<[RegExp, string]> = [
  [/outlook|ms-office|microsoft office/i, "Outlook"],
  [/thunderbird/i, "Thunderbird"],
  [/airmail/i, "Airmail"],
  [/yahoomailproxy/i, "Yahoo Mail"],
];

function clientName(ua: string, bot: BotKind, browser: string | undefined): string {
  if (bot === "gmail") return "Gmail";
  if (bot === "apple") return "Apple Mail";
  for (const [pattern, name] of NAMED_EMAIL_CLIENTS) if (pattern.test(ua)) return name;
  if (/AppleWebKit/.test(ua) && !/Safari|Chrome/.test(ua)) return "Apple Mail";
  return browser ?? "unknown";
}

function toDeviceType(type: string | undefined, os: string | undefined): string {
  if (type === "mobile" || type === "tablet") return type;
  if (type) return "other"; // console, smarttv, wearable, embedded
  return os ? "desktop" : "unknown";
}

function toClientType(ua: string, bot: BotKind, device: string, browser: string | undefined): string {
  if (LIBRARY_AGENTS.test(ua)) return "library";
  if (bot === "generic") return "robot";
  if (bot === "gmail" || bot === "apple" || EMAIL_CLIENTS.test(ua)) return "email client";
  // Apple Mail and iOS Mail load images with WebKit but without a Safari token.
  if (/AppleWebKit/.test(ua) && !/Safari|Chrome/.test(ua)) return "email client";
  if (!browser) return "unknown";
  return device === "mobile" || device === "tablet" ? "mobile browser" : "browser";
}
