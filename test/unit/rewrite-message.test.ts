import { describe, expect, it } from "vitest";
import { decodeAttributeEntities, type Footers, type LinkMaker, rewriteMessage, trimTextUrl } from "../../src/domain/rewrite-message";
import { DEFAULT_HTML_FOOTER, DEFAULT_TEXT_FOOTER, type EffectiveTracking } from "../../src/domain/tracking-settings";

const OPEN_URL = "https://t.test/o/pixel";
const UNSUBSCRIBE_URL = "https://t.test/u/all";
const TAG_UNSUBSCRIBE_URL = "https://t.test/u/tags";

/** A LinkMaker that numbers click links and records what it was asked for; it cannot sign destinations containing "unsignable". */
function fakeLinks() {
  const clicked: string[] = [];
  let opens = 0;
  const links: LinkMaker = {
    async openUrl() {
      opens++;
      return OPEN_URL;
    },
    async clickUrl(destination) {
      clicked.push(destination);
      return destination.includes("unsignable") ? null : `https://t.test/c/${clicked.length}`;
    },
    unsubscribeUrl: UNSUBSCRIBE_URL,
    tagUnsubscribeUrl: TAG_UNSUBSCRIBE_URL,
    isTrackingLink: (url) => url.startsWith("https://t.test/"),
  };
  return { links, clicked, openCalls: () => opens };
}

const off: EffectiveTracking = { opens: false, pixelTop: false, clicks: "no", unsubscribe: false };
const opensOnly: EffectiveTracking = { ...off, opens: true };
const clicksOnly: EffectiveTracking = { ...off, clicks: "yes" };
const footers: Footers = { html: DEFAULT_HTML_FOOTER, text: DEFAULT_TEXT_FOOTER };
const noFooters: Footers = { html: "<p>html footer</p>", text: "\ntext footer" };

const PIXEL = /<img width="1" height="1" alt="" style="[^"]*" src="https:\/\/t\.test\/o\/pixel">/;
const pixelCount = (html: string) => html.split(OPEN_URL).length - 1;

async function rewrite(parts: { html?: string; text?: string }, tracking: EffectiveTracking, footerTemplates: Footers = noFooters) {
  const fake = fakeLinks();
  const result = await rewriteMessage(parts, tracking, footerTemplates, fake.links);
  return { ...result, ...fake };
}

describe("rewriteMessage: open pixel", () => {
  it("puts the pixel at the bottom, just before </body>", async () => {
    const { html, openCalls } = await rewrite({ html: "<html><body><p>Hi</p></body></html>" }, opensOnly);
    expect(html).toMatch(new RegExp(`^<html><body><p>Hi</p>${PIXEL.source}</body></html>$`));
    expect(openCalls()).toBe(1);
  });

  it("puts the pixel at the top, as the body's first child", async () => {
    const { html } = await rewrite({ html: '<html><head><title>t</title></head><body class="x"><p>Hi</p></body></html>' }, { ...opensOnly, pixelTop: true });
    expect(html).toMatch(new RegExp(`^<html><head><title>t</title></head><body class="x">${PIXEL.source}<p>Hi</p></body></html>$`));
    expect(pixelCount(html!)).toBe(1);
  });

  it("adds the pixel to a fragment without <body>: at the end, or at the start when on top", async () => {
    const bottom = await rewrite({ html: "<p>Hi</p>" }, opensOnly);
    expect(bottom.html).toMatch(new RegExp(`^<p>Hi</p>${PIXEL.source}$`));
    const top = await rewrite({ html: "<p>Hi</p>" }, { ...opensOnly, pixelTop: true });
    expect(top.html).toMatch(new RegExp(`^${PIXEL.source}<p>Hi</p>$`));
  });

  it("adds one pixel even when the HTML has a second <body>", async () => {
    const { html } = await rewrite({ html: "<body><p>a</p></body><body><p>b</p></body>" }, opensOnly);
    expect(pixelCount(html!)).toBe(1);
  });

  it("adds no pixel when opens are off", async () => {
    const { html, openCalls } = await rewrite({ html: "<html><body><p>Hi</p></body></html>" }, { ...off, pixelTop: true });
    expect(html).toBe("<html><body><p>Hi</p></body></html>");
    expect(openCalls()).toBe(0);
  });

  it("adds nothing to a text-only message", async () => {
    const result = await rewrite({ text: "Hello\n" }, { ...opensOnly, pixelTop: true });
    expect(result.html).toBeUndefined();
    expect("html" in result).toBe(false);
    expect(result.text).toBe("Hello\n");
    expect(result.openCalls()).toBe(0);
  });

  it("escapes the open URL in the src attribute", async () => {
    const fake = fakeLinks();
    fake.links.openUrl = async () => 'https://t.test/o/a&b"c';
    const { html } = await rewriteMessage({ html: "<p>x</p>" }, opensOnly, noFooters, fake.links);
    expect(html).toContain('src="https://t.test/o/a&amp;b&quot;c"');
  });
});

describe("rewriteMessage: HTML links", () => {
  it("rewrites http and https links in <a> and <area>", async () => {
    const { html, clicked } = await rewrite(
      {
        html: '<a href="http://example.org/one">1</a><a class="b" href="https://example.org/two?x=1">2</a><map><area shape="rect" href="https://example.org/three"></map>',
      },
      clicksOnly,
    );
    expect(clicked).toEqual(["http://example.org/one", "https://example.org/two?x=1", "https://example.org/three"]);
    expect(html).toBe('<a href="https://t.test/c/1">1</a><a class="b" href="https://t.test/c/2">2</a><map><area shape="rect" href="https://t.test/c/3"></map>');
  });

  it("accepts upper-case schemes and trims spaces around the href", async () => {
    const { html, clicked } = await rewrite({ html: '<a href=" HTTPS://Example.org/Up ">x</a>' }, clicksOnly);
    expect(clicked).toEqual(["HTTPS://Example.org/Up"]);
    expect(html).toBe('<a href="https://t.test/c/1">x</a>');
  });

  it("leaves mailto:, tel:, anchors, relative and other-scheme links alone", async () => {
    const original = [
      '<a href="mailto:bob@example.org">m</a>',
      '<a href="tel:+15551234567">t</a>',
      '<a href="#section">s</a>',
      '<a href="/relative/path">r</a>',
      '<a href="page.html">p</a>',
      '<a href="ftp://example.org/f">f</a>',
      '<a href="javascript:void(0)">j</a>',
      '<a href="http://">broken</a>',
      '<a name="no-href">n</a>',
      '<img src="https://example.org/image.png">',
      '<link href="https://example.org/style.css">',
    ].join("");
    const { html, clicked } = await rewrite({ html: original }, clicksOnly);
    expect(clicked).toEqual([]);
    expect(html).toBe(original);
  });

  it("leaves the unsubscribe link (a tracking link) alone", async () => {
    const { html, clicked } = await rewrite({ html: '<a href="%unsubscribe_url%">u</a><a href="https://example.org/">e</a>' }, clicksOnly);
    expect(clicked).toEqual(["https://example.org/"]);
    expect(html).toBe(`<a href="${UNSUBSCRIBE_URL}">u</a><a href="https://t.test/c/1">e</a>`);
  });

  it("decodes &amp; in an href before making the click URL", async () => {
    const { html, clicked } = await rewrite({ html: '<a href="https://example.org/p?a=1&amp;b=2&#38;c=3">x</a>' }, clicksOnly);
    expect(clicked).toEqual(["https://example.org/p?a=1&b=2&c=3"]);
    expect(html).toBe('<a href="https://t.test/c/1">x</a>');
  });

  it("makes one click URL per distinct destination", async () => {
    const { html, clicked } = await rewrite(
      {
        html: '<a href="https://example.org/a">1</a><a href="https://example.org/b">2</a><a href="https://example.org/a">3</a><a href="https://example.org/a?x=1&amp;y=2">4</a><a href="https://example.org/a?x=1&y=2">5</a>',
      },
      clicksOnly,
    );
    expect(clicked).toEqual(["https://example.org/a", "https://example.org/b", "https://example.org/a?x=1&y=2"]);
    expect(html).toBe(
      '<a href="https://t.test/c/1">1</a><a href="https://t.test/c/2">2</a><a href="https://t.test/c/1">3</a><a href="https://t.test/c/3">4</a><a href="https://t.test/c/3">5</a>',
    );
  });

  it("leaves a link as it was when its token cannot be made", async () => {
    const { html, clicked } = await rewrite(
      { html: '<a href="https://example.org/ok">ok</a><a href="https://example.org/unsignable?a=1&amp;b=2">long</a>' },
      clicksOnly,
    );
    expect(clicked).toEqual(["https://example.org/ok", "https://example.org/unsignable?a=1&b=2"]);
    expect(html).toBe('<a href="https://t.test/c/1">ok</a><a href="https://example.org/unsignable?a=1&amp;b=2">long</a>');
  });

  it("leaves links holding control characters, raw or as entities, as they were", async () => {
    const hrefs = [
      "https://example.org/a&#10;b",
      "https://example.org/a&#13;&#10;b",
      "https://example.org/a&#0;b",
      "https://example.org/a&#x7f;b",
      "https://example.org/a\u0001b",
    ];
    const source = hrefs.map((href, i) => `<a href="${href}">${i}</a>`).join("");
    const { html, clicked } = await rewrite({ html: source }, clicksOnly);
    expect(clicked).toEqual([]);
    expect(html).toBe(source);
  });

  it("signs non-ASCII links in the ASCII form a browser opens, and printable ASCII ones as written", async () => {
    const { clicked } = await rewrite(
      { html: '<a href="https://example.org/é?q=ü#ß">1</a><a href="https://bücher.example/a b">2</a><a href="HTTPS://Example.org/%7e">3</a>' },
      clicksOnly,
    );
    expect(clicked).toEqual(["https://example.org/%C3%A9?q=%C3%BC#%C3%9F", "https://xn--bcher-kva.example/a%20b", "HTTPS://Example.org/%7e"]);
  });

  it("rewrites HTML links for htmlonly too, and none when clicks are off", async () => {
    const source = '<a href="https://example.org/">x</a>';
    expect((await rewrite({ html: source }, { ...off, clicks: "htmlonly" })).html).toBe('<a href="https://t.test/c/1">x</a>');
    const none = await rewrite({ html: source }, off);
    expect(none.html).toBe(source);
    expect(none.clicked).toEqual([]);
  });

  it("works together with the pixel", async () => {
    const { html } = await rewrite({ html: '<body><a href="https://example.org/">x</a></body>' }, { ...clicksOnly, opens: true });
    expect(html).toMatch(new RegExp(`^<body><a href="https://t.test/c/1">x</a>${PIXEL.source}</body>$`));
  });
});

describe("rewriteMessage: unsubscribe placeholders and footers", () => {
  it("substitutes both placeholders in HTML and text, even with tracking off", async () => {
    const { html, text } = await rewrite(
      {
        html: '<a href="%unsubscribe_url%">all</a> <a href="%tag_unsubscribe_url%">tags</a> %unsubscribe_url%',
        text: "All: %unsubscribe_url%\nTags: %tag_unsubscribe_url%\nAgain: %unsubscribe_url%",
      },
      off,
    );
    expect(html).toBe(`<a href="${UNSUBSCRIBE_URL}">all</a> <a href="${TAG_UNSUBSCRIBE_URL}">tags</a> ${UNSUBSCRIBE_URL}`);
    expect(text).toBe(`All: ${UNSUBSCRIBE_URL}\nTags: ${TAG_UNSUBSCRIBE_URL}\nAgain: ${UNSUBSCRIBE_URL}`);
  });

  it("appends the footers, with their placeholders filled, when unsubscribe is on", async () => {
    const { html, text } = await rewrite({ html: "<html><body><p>Hi</p></body></html>", text: "Hi" }, { ...off, unsubscribe: true }, footers);
    expect(html).toBe(`<html><body><p>Hi</p>${DEFAULT_HTML_FOOTER.replace("%unsubscribe_url%", UNSUBSCRIBE_URL)}</body></html>`);
    expect(text).toBe(`Hi${DEFAULT_TEXT_FOOTER.replace("%unsubscribe_url%", UNSUBSCRIBE_URL)}`);
  });

  it("appends the HTML footer to a fragment without <body>", async () => {
    const { html } = await rewrite({ html: "<p>Hi</p>" }, { ...off, unsubscribe: true }, { html: "<p>%tag_unsubscribe_url%</p>", text: "" });
    expect(html).toBe(`<p>Hi</p><p>${TAG_UNSUBSCRIBE_URL}</p>`);
  });

  it("puts a bottom pixel before the footer", async () => {
    const { html } = await rewrite({ html: "<body>Hi</body>" }, { ...opensOnly, unsubscribe: true }, { html: "<p>F</p>", text: "" });
    expect(html).toMatch(new RegExp(`^<body>Hi${PIXEL.source}<p>F</p></body>$`));
  });

  it("appends no footer when unsubscribe is off", async () => {
    const { html, text } = await rewrite({ html: "<body>Hi</body>", text: "Hi" }, { ...off, clicks: "yes", opens: false }, footers);
    expect(html).toBe("<body>Hi</body>");
    expect(text).toBe("Hi");
  });

  it("does not turn the footer's unsubscribe link into a click link", async () => {
    const { html, text, clicked } = await rewrite(
      { html: "<body>Hi</body>", text: "Hi" },
      { opens: false, pixelTop: false, clicks: "yes", unsubscribe: true },
      footers,
    );
    expect(clicked).toEqual([]);
    expect(html).toContain(`href="${UNSUBSCRIBE_URL}"`);
    expect(text).toContain(`<${UNSUBSCRIBE_URL}>`);
  });
});

describe("rewriteMessage: text links", () => {
  it("rewrites text links when clicks are yes", async () => {
    const { text, clicked } = await rewrite({ text: "Go to https://example.org/a now or http://example.org/b?x=1&y=2\nThanks" }, clicksOnly);
    expect(clicked).toEqual(["https://example.org/a", "http://example.org/b?x=1&y=2"]);
    expect(text).toBe("Go to https://t.test/c/1 now or https://t.test/c/2\nThanks");
  });

  it("leaves text links alone for htmlonly and for no", async () => {
    for (const clicks of ["htmlonly", "no"] as const) {
      const { text, clicked } = await rewrite({ text: "See https://example.org/a", html: '<a href="https://example.org/b">b</a>' }, { ...off, clicks });
      expect(text).toBe("See https://example.org/a");
      expect(clicked).toEqual(clicks === "htmlonly" ? ["https://example.org/b"] : []);
    }
  });

  it("keeps trailing punctuation and closing brackets out of a text link", async () => {
    const { text, clicked } = await rewrite(
      { text: "End https://example.org/a. Then https://example.org/b, (https://example.org/c) <https://example.org/d>! https://example.org/e?!" },
      clicksOnly,
    );
    expect(clicked).toEqual(["https://example.org/a", "https://example.org/b", "https://example.org/c", "https://example.org/d", "https://example.org/e"]);
    expect(text).toBe("End https://t.test/c/1. Then https://t.test/c/2, (https://t.test/c/3) <https://t.test/c/4>! https://t.test/c/5?!");
  });

  it("makes one click URL per distinct text link", async () => {
    const { text, clicked } = await rewrite({ text: "https://example.org/a https://example.org/b https://example.org/a." }, clicksOnly);
    expect(clicked).toEqual(["https://example.org/a", "https://example.org/b"]);
    expect(text).toBe("https://t.test/c/1 https://t.test/c/2 https://t.test/c/1.");
  });

  it("leaves text links it cannot sign, or holding control characters, as they were", async () => {
    const source = "https://example.org/unsignable https://example.org/a\u0000b https://example.org/short";
    const { text, clicked } = await rewrite({ text: source }, clicksOnly);
    expect(clicked).toEqual(["https://example.org/unsignable", "https://example.org/short"]);
    expect(text).toBe("https://example.org/unsignable https://example.org/a\u0000b https://t.test/c/2");
  });

  it("leaves tracking links and non-http text alone", async () => {
    const source = "Mail bob@example.org, call tel:+1555, see www.example.org or ftp://example.org or https://t.test/c/99";
    const { text, clicked } = await rewrite({ text: source }, clicksOnly);
    expect(clicked).toEqual([]);
    expect(text).toBe(source);
  });
});

describe("decodeAttributeEntities", () => {
  it("decodes named, decimal and hex entities, in any case", () => {
    expect(decodeAttributeEntities("a&amp;b&AMP;c&quot;d&apos;e&lt;f&gt;g")).toBe("a&b&c\"d'e<f>g");
    expect(decodeAttributeEntities("&#38;&#x26;&#X41;&#233;")).toBe("&&Aé");
  });

  it("leaves unknown entities, bare ampersands and out-of-range code points as written", () => {
    expect(decodeAttributeEntities("a&b=1&nbsp;&copy;")).toBe("a&b=1&nbsp;&copy;");
    expect(decodeAttributeEntities("&#x110000;")).toBe("&#x110000;");
  });

  it("decodes only once", () => {
    expect(decodeAttributeEntities("&amp;amp;")).toBe("&amp;");
  });
});

describe("rewriteMessage: documents without </body>", () => {
  it("still gets the pixel and the footer at the end", async () => {
    const links = {
      openUrl: async () => "https://t.test/o/1",
      clickUrl: async (u: string) => `https://t.test/c/${encodeURIComponent(u)}`,
      unsubscribeUrl: "https://t.test/u/1",
      tagUnsubscribeUrl: "https://t.test/u/2",
      isTrackingLink: (u: string) => u.startsWith("https://t.test/"),
    };
    const out = await rewriteMessage(
      { html: "<html><body><p>hi</p>" },
      { opens: true, pixelTop: false, clicks: "no", unsubscribe: true },
      { html: '<a href="%unsubscribe_url%">unsubscribe</a>', text: "" },
      links,
    );
    expect(out.html!.startsWith("<html><body><p>hi</p>")).toBe(true);
    expect(out.html).toContain('src="https://t.test/o/1"');
    expect(out.html!.endsWith('<a href="https://t.test/u/1">unsubscribe</a>')).toBe(true);
  });

  it("keeps balanced parentheses in text links and drops a closing one that ends the sentence", async () => {
    expect(trimTextUrl("https://e.org/wiki/Foo_(bar)")).toBe("https://e.org/wiki/Foo_(bar)");
    expect(trimTextUrl("https://e.org/page).")).toBe("https://e.org/page");
  });
});
