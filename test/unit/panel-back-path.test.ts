import { describe, expect, it } from "vitest";
import { panelBackPath } from "../../src/panel/back-path";

const REQUEST = "https://tidings.example.net/app/suppressions/delete";

describe("the panel's back= path", () => {
  it("keeps same-origin paths under /app/, normalised, with their query", () => {
    expect(panelBackPath("/app/suppressions?domain=a.example&list=bounces", REQUEST)).toBe("/app/suppressions?domain=a.example&list=bounces");
    expect(panelBackPath("/app/logs/../suppressions", REQUEST)).toBe("/app/suppressions");
    expect(panelBackPath("/app/suppressions#top", REQUEST)).toBe("/app/suppressions");
    expect(panelBackPath("https://tidings.example.net/app/domains", REQUEST)).toBe("/app/domains");
  });

  it("refuses anything that leaves the origin or /app/ once resolved", () => {
    for (const back of [
      "/app/..//evil.example/x",
      "/app/../..//evil.example/x",
      "//evil.example/app/x",
      "///evil.example/app/x",
      "https://evil.example/app/x",
      "http://tidings.example.net/app/x", // another origin: the scheme differs
      "https://tidings.example.net:8443/app/x",
      "https://user@tidings.example.net/app/x",
      "javascript:alert(1)//app/",
      "data:text/html,/app/",
      "/app",
      "/application/x",
      "/app/../sign-in",
      "/",
      "",
      "app/x",
      "./app/x",
    ]) {
      expect(panelBackPath(back, REQUEST), back).toBeNull();
    }
  });

  it("refuses backslashes, encoded slashes and control characters outright", () => {
    for (const back of [
      "/app/\\evil.example",
      "/\\evil.example/app/",
      "/app/..\\..\\evil",
      "/app/%2f%2fevil.example",
      "/app/%2F..%2Fx",
      "/app/%5cevil",
      "/app/%5C",
      "/app/\tx",
      "/app/\n/evil",
      "\t//evil.example/app/",
      "/app/x\u0000",
    ]) {
      expect(panelBackPath(back, REQUEST), JSON.stringify(back)).toBeNull();
    }
  });
});
