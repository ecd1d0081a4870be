import { describe, expect, it } from "vitest";
import { DEFAULT_TRACKING, type DomainTracking, parseClickMode, parseYesNo, resolveTracking } from "../../src/domain/tracking-settings";

const allOff: DomainTracking = DEFAULT_TRACKING;
const allOn: DomainTracking = { ...allOff, openActive: true, openPlaceAtTop: true, clickActive: "yes", unsubscribeActive: true };

describe("parseYesNo", () => {
  it("reads yes/true and no/false in any case and with spaces", () => {
    for (const v of ["yes", "YES", "Yes", "true", "TRUE", " true ", "\tyes\n"]) expect(parseYesNo(v), v).toBe(true);
    for (const v of ["no", "NO", "false", "False", " no "]) expect(parseYesNo(v), v).toBe(false);
  });

  it("passes booleans through", () => {
    expect(parseYesNo(true)).toBe(true);
    expect(parseYesNo(false)).toBe(false);
  });

  it("gives null for anything else", () => {
    for (const v of ["", "y", "n", "1", "0", "on", "off", "htmlonly", "yes please", 1, 0, null, undefined, {}, ["yes"]]) {
      expect(parseYesNo(v), String(v)).toBeNull();
    }
  });
});

describe("parseClickMode", () => {
  it("reads htmlonly in any case", () => {
    expect(parseClickMode("htmlonly")).toBe("htmlonly");
    expect(parseClickMode(" HTMLOnly ")).toBe("htmlonly");
  });

  it("maps yes/no values to yes and no", () => {
    expect(parseClickMode("yes")).toBe("yes");
    expect(parseClickMode("true")).toBe("yes");
    expect(parseClickMode(true)).toBe("yes");
    expect(parseClickMode("no")).toBe("no");
    expect(parseClickMode("FALSE")).toBe("no");
    expect(parseClickMode(false)).toBe("no");
  });

  it("gives null for anything else", () => {
    for (const v of ["", "html", "html-only", "textonly", 1, null, undefined]) expect(parseClickMode(v), String(v)).toBeNull();
  });
});

describe("resolveTracking", () => {
  it("uses the domain's settings when the message says nothing", () => {
    expect(resolveTracking(allOff, {})).toEqual({ opens: false, pixelTop: false, clicks: "no", unsubscribe: false });
    expect(resolveTracking(allOn, {})).toEqual({ opens: true, pixelTop: true, clicks: "yes", unsubscribe: true });
    expect(resolveTracking({ ...allOff, clickActive: "htmlonly" }, {}).clicks).toBe("htmlonly");
  });

  it("lets a message's own option beat the domain, both ways", () => {
    expect(resolveTracking(allOff, { opens: "yes", clicks: "yes", pixelTop: "yes" })).toMatchObject({ opens: true, clicks: "yes", pixelTop: true });
    expect(resolveTracking(allOn, { opens: "no", clicks: "no", pixelTop: "no" })).toMatchObject({ opens: false, clicks: "no", pixelTop: false });
    expect(resolveTracking(allOn, { opens: false, clicks: false })).toMatchObject({ opens: false, clicks: "no" });
  });

  it("lets o:tracking toggle opens and clicks together", () => {
    expect(resolveTracking(allOff, { tracking: "yes" })).toMatchObject({ opens: true, clicks: "yes" });
    expect(resolveTracking(allOn, { tracking: "no" })).toMatchObject({ opens: false, clicks: "no" });
    expect(resolveTracking(allOn, { tracking: false })).toMatchObject({ opens: false, clicks: "no" });
  });

  it("reads o:tracking=htmlonly as opens on and clicks in HTML only", () => {
    expect(resolveTracking(allOff, { tracking: "htmlonly" })).toMatchObject({ opens: true, clicks: "htmlonly" });
  });

  it("lets o:tracking-opens and o:tracking-clicks beat o:tracking", () => {
    expect(resolveTracking(allOff, { tracking: "yes", opens: "no" })).toMatchObject({ opens: false, clicks: "yes" });
    expect(resolveTracking(allOn, { tracking: "no", opens: "yes" })).toMatchObject({ opens: true, clicks: "no" });
    expect(resolveTracking(allOff, { tracking: "yes", clicks: "htmlonly" })).toMatchObject({ opens: true, clicks: "htmlonly" });
    expect(resolveTracking(allOn, { tracking: "no", clicks: "yes" })).toMatchObject({ opens: false, clicks: "yes" });
  });

  it("leaves unsubscribe and pixel placement to their own settings", () => {
    expect(resolveTracking(allOn, { tracking: "no" })).toMatchObject({ unsubscribe: true, pixelTop: true });
    expect(resolveTracking(allOff, { tracking: "yes" })).toMatchObject({ unsubscribe: false, pixelTop: false });
  });

  it("throws a RangeError naming the option for a bad value", () => {
    expect(() => resolveTracking(allOff, { tracking: "maybe" })).toThrow(RangeError);
    expect(() => resolveTracking(allOff, { tracking: "maybe" })).toThrow(/^o:tracking must be yes, no, true or false or htmlonly$/);
    expect(() => resolveTracking(allOff, { clicks: "sometimes" })).toThrow(/^o:tracking-clicks must .* or htmlonly$/);
    expect(() => resolveTracking(allOff, { pixelTop: "top" })).toThrow(/^o:tracking-pixel-location-top must be yes, no, true or false$/);
    // htmlonly is for clicks only.
    expect(() => resolveTracking(allOff, { opens: "htmlonly" })).toThrow(/^o:tracking-opens must be yes, no, true or false$/);
    expect(() => resolveTracking(allOff, { opens: "" })).toThrow(RangeError);
  });
});
