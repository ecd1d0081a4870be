// The edge reads scheme, hostname and path off request.url without a URL parse: it must agree
// with the URL parser on every shape the runtime can hand it.
import { describe, expect, it } from "vitest";
import { targetOf } from "../../src/edge/tracking";

const URLS = [
  "http://127.0.0.1:8787/o/AbC_-123",
  "https://email.example.com/c/tok?x=1#frag",
  "http://EMAIL.Example.COM/u/tok",
  "http://[::1]:8787/o/tok",
  "http://[::1]/o/tok",
  "https://email.example.com",
  "https://email.example.com?q=1",
  "https://email.example.com#top",
  "http://user:pw@email.example.com/o/tok",
  "http://email.example.com:443/o/a/b/c",
  "http://localhost/o/%41bc",
];

describe("targetOf", () => {
  it.each(URLS)("agrees with new URL for %s", (href) => {
    const url = new URL(href);
    expect(targetOf(href)).toEqual({ https: url.protocol === "https:", hostname: url.hostname, path: url.pathname });
  });
});
