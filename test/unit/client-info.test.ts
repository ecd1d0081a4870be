import { describe, expect, it } from "vitest";
import { classifyBot, describeClient, type HitContext, HUMAN_MIN_SECONDS_TO_CLICK, MAX_REMEMBERED_USER_AGENTS } from "../../src/domain/client-info";

const UA = {
  chromeWindows: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  iphoneSafari: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  ipadSafari: "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  androidChrome: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
  iosMail: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  outlookDesktop: "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
  gmailProxy: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
  googlebot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  curl: "curl/8.5.0",
  pythonRequests: "python-requests/2.31.0",
  barracuda: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Barracuda",
  mimecast: "Mimecast URL Protect",
};

/** A person clicking in desktop Chrome a minute after the mail went out. */
const human: HitContext = {
  event: "clicked",
  method: "GET",
  userAgent: UA.chromeWindows,
  asn: 7922,
  asOrganization: "Comcast Cable Communications, LLC",
  secondsSinceIssued: 60,
};

describe("classifyBot", () => {
  it("leaves a person alone: desktop Chrome clicking after 60 s, iPhone Safari opening", () => {
    expect(classifyBot(human)).toBe("");
    expect(classifyBot({ ...human, event: "opened", userAgent: UA.iphoneSafari, asn: 21928, asOrganization: "T-Mobile USA, Inc." })).toBe("");
    expect(classifyBot({ ...human, asn: undefined, asOrganization: undefined })).toBe("");
  });

  it("calls Google's image proxy gmail", () => {
    expect(classifyBot({ ...human, event: "opened", userAgent: UA.gmailProxy, asOrganization: "Google LLC" })).toBe("gmail");
    // Checked first: the proxy is gmail even on a HEAD or from a data centre.
    expect(classifyBot({ ...human, userAgent: UA.gmailProxy, method: "HEAD", asOrganization: "Google Cloud" })).toBe("gmail");
  });

  it("calls Apple Mail Privacy Protection apple, by its bare UA or by Apple's network", () => {
    expect(classifyBot({ ...human, event: "opened", userAgent: "Mozilla/5.0", asn: undefined, asOrganization: undefined })).toBe("apple");
    expect(classifyBot({ ...human, event: "opened", userAgent: " Mozilla/5.0 " })).toBe("apple");
    expect(classifyBot({ ...human, event: "opened", userAgent: UA.iosMail, asn: 714, asOrganization: "Apple Inc." })).toBe("apple");
    expect(classifyBot({ ...human, asn: 6185 })).toBe("apple");
    expect(classifyBot({ ...human, userAgent: "Mozilla/5.0 (Macintosh)" })).not.toBe("apple");
  });

  it("calls a HEAD request generic", () => {
    expect(classifyBot({ ...human, method: "HEAD" })).toBe("generic");
  });

  it("calls an empty or blank UA generic", () => {
    expect(classifyBot({ ...human, userAgent: "" })).toBe("generic");
    expect(classifyBot({ ...human, userAgent: "   " })).toBe("generic");
  });

  it("calls crawlers, libraries and security scanners generic", () => {
    for (const userAgent of [UA.googlebot, UA.curl, UA.pythonRequests, "Wget/1.21.4", UA.barracuda, UA.mimecast, "Proofpoint URL Defense"]) {
      expect(classifyBot({ ...human, userAgent }), userAgent).toBe("generic");
    }
  });

  it("calls a hit from a data centre generic", () => {
    for (const asOrganization of ["Amazon.com, Inc.", "Microsoft Corporation", "DigitalOcean, LLC", "Hetzner Online GmbH", "OVH SAS"]) {
      expect(classifyBot({ ...human, asOrganization }), asOrganization).toBe("generic");
    }
  });

  it(`calls a click or unsubscribe within ${HUMAN_MIN_SECONDS_TO_CLICK} s of issue generic, but not an open`, () => {
    expect(classifyBot({ ...human, secondsSinceIssued: 2 })).toBe("generic");
    expect(classifyBot({ ...human, event: "unsubscribed", secondsSinceIssued: 2 })).toBe("generic");
    expect(classifyBot({ ...human, secondsSinceIssued: HUMAN_MIN_SECONDS_TO_CLICK - 0.1 })).toBe("generic");
    expect(classifyBot({ ...human, secondsSinceIssued: HUMAN_MIN_SECONDS_TO_CLICK })).toBe("");
    expect(classifyBot({ ...human, event: "opened", secondsSinceIssued: 2 })).toBe("");
  });
});

describe("describeClient", () => {
  const fields = (userAgent: string, bot: Parameters<typeof describeClient>[1] = "") => {
    const info = describeClient(userAgent, bot);
    expect(info["user-agent"]).toBe(userAgent);
    expect(info.bot).toBe(bot);
    return { name: info["client-name"], os: info["client-os"], type: info["client-type"], device: info["device-type"] };
  };

  it("describes desktop Chrome on Windows", () => {
    expect(fields(UA.chromeWindows)).toEqual({ name: "Chrome", os: "Windows", type: "browser", device: "desktop" });
  });

  it("describes iPhone Safari as a mobile browser on a mobile", () => {
    expect(fields(UA.iphoneSafari)).toEqual({ name: "Mobile Safari", os: "iOS", type: "mobile browser", device: "mobile" });
  });

  it("describes Android Chrome and an iPad as mobile browsers", () => {
    expect(fields(UA.androidChrome)).toEqual({ name: "Chrome", os: "Android", type: "mobile browser", device: "mobile" });
    expect(fields(UA.ipadSafari)).toMatchObject({ type: "mobile browser", device: "tablet" });
  });

  it("describes Outlook desktop as an email client", () => {
    expect(fields(UA.outlookDesktop)).toMatchObject({ os: "Windows", type: "email client", device: "desktop" });
  });

  it("describes iOS Mail (WebKit without a Safari token) as an email client", () => {
    expect(fields(UA.iosMail)).toMatchObject({ os: "iOS", type: "email client", device: "mobile" });
  });

  it("describes curl as a library, even when classified generic", () => {
    expect(fields(UA.curl, "generic")).toMatchObject({ type: "library" });
    expect(fields(UA.curl)).toMatchObject({ type: "library" });
  });

  it("describes Googlebot as a robot", () => {
    expect(fields(UA.googlebot, "generic")).toMatchObject({ type: "robot" });
    // A browser UA that was still classified a bot (e.g. from a data centre) is a robot too.
    expect(fields(UA.chromeWindows, "generic")).toMatchObject({ name: "Chrome", type: "robot", device: "desktop" });
  });

  it("names the proxy when the UA names nothing", () => {
    expect(fields("Mozilla/5.0", "apple")).toEqual({ name: "Apple Mail", os: "unknown", type: "email client", device: "unknown" });
    expect(fields("", "gmail")).toEqual({ name: "Gmail", os: "unknown", type: "email client", device: "unknown" });
    expect(fields("", "")).toEqual({ name: "unknown", os: "unknown", type: "unknown", device: "unknown" });
  });
});

describe("remembered user agents", () => {
  it("answers the same for an agent seen before, after the cache filled and emptied, and for every other agent", () => {
    const first = {
      info: describeClient(UA.iphoneSafari, ""),
      bot: classifyBot({ event: "clicked", method: "GET", userAgent: UA.curl, secondsSinceIssued: 60 }),
    };
    // More distinct agents than the cache holds: it empties once on the way.
    const others = Array.from(
      { length: MAX_REMEMBERED_USER_AGENTS + 10 },
      (_, i) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/${i}.0.0.0 Safari/537.36`,
    );
    for (const ua of others) expect(describeClient(ua, "")).toMatchObject({ "client-name": "Chrome", "client-os": "Windows", "user-agent": ua });
    expect(describeClient(UA.iphoneSafari, "")).toEqual(first.info);
    expect(classifyBot({ event: "clicked", method: "GET", userAgent: UA.curl, secondsSinceIssued: 60 })).toBe(first.bot);
    expect(first.bot).toBe("generic");
    // A shared answer is never handed out twice: changing one event's client-info leaves the next alone.
    const a = describeClient(UA.iphoneSafari, "");
    a["client-name"] = "changed";
    expect(describeClient(UA.iphoneSafari, "")["client-name"]).toBe("Mobile Safari");
  });
});
