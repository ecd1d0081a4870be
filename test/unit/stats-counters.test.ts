import { describe, expect, it } from "vitest";
import { countersOf, dayBucket, hourBucket, normalizeTag, normalizeTags, type RollupEvent, uniqueCounterOf } from "../../src/domain/stats-counters";

const base: RollupEvent = {
  domain: "d",
  ts: 0,
  event: "accepted",
  severity: null,
  reason: null,
  messageId: "m",
  recipient: "r",
  isAuthenticated: true,
  isDelayedBounce: false,
  transport: null,
  bot: null,
  device: null,
  country: null,
  provider: null,
  tags: [],
};
const of = (patch: Partial<RollupEvent>) => countersOf({ ...base, ...patch });

describe("countersOf: Mailgun's stats sub-types", () => {
  it("splits accepted by authentication and delivered by transport", () => {
    expect(of({ event: "accepted", isAuthenticated: true })).toEqual(["accepted_outgoing"]);
    expect(of({ event: "accepted", isAuthenticated: false })).toEqual(["accepted_incoming"]);
    expect(of({ event: "delivered", transport: "smtp" })).toEqual(["delivered_smtp"]);
    expect(of({ event: "delivered", transport: "http" })).toEqual(["delivered_http"]);
  });

  it("splits failures by severity and reason, a delayed bounce whatever its reason", () => {
    expect(of({ event: "failed", severity: "temporary", reason: "generic" })).toEqual(["failed_temporary"]);
    expect(of({ event: "failed", severity: "temporary", reason: "espblock" })).toEqual(["failed_temporary", "failed_temporary_espblock"]);
    expect(of({ event: "failed", severity: "permanent", reason: "bounce" })).toEqual(["failed_permanent", "failed_permanent_bounce"]);
    expect(of({ event: "failed", severity: "permanent", reason: "bounce", isDelayedBounce: true })).toEqual([
      "failed_permanent",
      "failed_permanent_delayed_bounce",
    ]);
    for (const reason of ["suppress-bounce", "suppress-unsubscribe", "suppress-complaint"]) {
      expect(of({ event: "failed", severity: "permanent", reason })).toEqual(["failed_permanent", `failed_permanent_${reason.replace("-", "_")}`]);
    }
    expect(of({ event: "failed", severity: "permanent", reason: "old" })).toEqual(["failed_permanent", "failed_permanent_old"]);
    expect(of({ event: "failed", severity: "permanent", reason: "generic" })).toEqual(["failed_permanent"]);
  });

  it("counts engagement events by name and ignores what stats do not know", () => {
    for (const event of ["opened", "clicked", "unsubscribed", "complained"]) expect(of({ event })).toEqual([event]);
    expect(of({ event: "rejected" })).toEqual([]);
    expect(uniqueCounterOf("opened")).toBe("opened_unique");
    expect(uniqueCounterOf("clicked")).toBe("clicked_unique");
    expect(uniqueCounterOf("unsubscribed")).toBeNull();
  });
});

describe("buckets", () => {
  it("floors to the UTC hour and day, in unix seconds", () => {
    const micros = Date.UTC(2026, 10, 26, 9, 59, 59, 999) * 1000 + 999;
    expect(hourBucket(micros)).toBe(Date.UTC(2026, 10, 26, 9) / 1000);
    expect(dayBucket(micros)).toBe(Date.UTC(2026, 10, 26) / 1000);
    expect(hourBucket(Date.UTC(2026, 10, 26, 10) * 1000)).toBe(Date.UTC(2026, 10, 26, 10) / 1000);
  });
});

describe("normalizeTag", () => {
  it("lower-cases, strips unicode, cuts to 128 characters, drops what is left empty", () => {
    expect(normalizeTag("  NewsLetter ")).toBe("newsletter");
    expect(normalizeTag("café-promo")).toBe("caf-promo");
    expect(normalizeTag("日本語")).toBeNull();
    expect(normalizeTag("x".repeat(200))).toHaveLength(128);
    expect(normalizeTags(["A", "a", "ü", "b"])).toEqual(["a", "b"]);
  });
});
