// The tracking answers are built from header sets made once per isolate: each answer must still
// get headers of its own, exactly the ones it had when each was built from a plain object.
import { describe, expect, it } from "vitest";
import { HSTS_MAX_AGE_SECONDS, pixelResponse, redirectResponse } from "../../src/edge/responses";

const NO_CACHE = "no-cache, no-store, must-revalidate, private, max-age=0";
const HSTS = `max-age=${HSTS_MAX_AGE_SECONDS}`;
const headersOf = (response: Response) => Object.fromEntries(response.headers);

describe("tracking answers", () => {
  it("the pixel: the GIF, no caching, HSTS only when asked", async () => {
    expect(headersOf(pixelResponse())).toEqual({ "content-type": "image/gif", "cache-control": NO_CACHE });
    expect(headersOf(pixelResponse(true))).toEqual({ "content-type": "image/gif", "cache-control": NO_CACHE, "strict-transport-security": HSTS });
    const body = new Uint8Array(await pixelResponse().arrayBuffer());
    expect(body.length).toBe(43);
    expect(String.fromCharCode(...body.subarray(0, 6))).toBe("GIF89a");
  });

  it("the redirect: a 302 to the URL with no Referer, HSTS only when asked; null for a URL that cannot be a Location", () => {
    const url = "https://example.org/a?b=c&d=%C3%A9";
    const redirect = redirectResponse(url)!;
    expect(redirect.status).toBe(302);
    expect(headersOf(redirect)).toEqual({ location: url, "referrer-policy": "no-referrer" });
    expect(headersOf(redirectResponse(url, true)!)).toEqual({ location: url, "referrer-policy": "no-referrer", "strict-transport-security": HSTS });
    for (const bad of ["https://example.org/\r\nx: y", "https://example.org/a\nb", "https://example.org/\u0000"])
      expect(redirectResponse(bad), JSON.stringify(bad)).toBeNull();
  });

  it("each answer has headers of its own: changing one changes no other", () => {
    for (const make of [
      () => pixelResponse(),
      () => pixelResponse(true),
      () => redirectResponse("https://example.org/x")!,
      () => redirectResponse("https://example.org/x", true)!,
    ]) {
      const first = make();
      const before = headersOf(make());
      first.headers.set("x-changed", "1");
      first.headers.delete("referrer-policy");
      first.headers.delete("content-type");
      first.headers.set("location", "https://elsewhere.example/");
      expect(headersOf(make())).toEqual(before);
    }
    const a = redirectResponse("https://example.org/a")!;
    const b = redirectResponse("https://example.org/b")!;
    expect([a.headers.get("location"), b.headers.get("location")]).toEqual(["https://example.org/a", "https://example.org/b"]);
  });
});
