// The day keys' pure rules (src/domain/event-day-keys.ts): which keys an event has, which a filter
// requires (never narrower than the filter, so a day the keys rule out holds no match), and what a
// day's keys say.
import { describe, expect, it } from "vitest";
import { dayEstimates, dayKey, keysOfEvents, requiredKeys } from "../../src/domain/event-day-keys";
import type { EventRow, MailgunEvent } from "../../src/domain/tracking-event";

const D = "keys.example.com";
const r = (value: string) => dayKey(D, "recipient", value);
const t = (value: string) => dayKey(D, "tags", value);

function row(overrides: Partial<EventRow>): EventRow {
  return {
    id: "id",
    domain: D,
    ts: 3 * 86_400_000_000 + 5,
    event: "opened",
    severity: null,
    recipient: "a@x.org",
    from: null,
    to: null,
    subject: null,
    messageId: "m1@x",
    size: null,
    tags: [],
    body: {} as MailgunEvent,
    ...overrides,
  };
}

describe("day keys", () => {
  it("keys a value per domain and field, folding case where the filter does (recipient, tags) and nowhere else", () => {
    expect(r("A@X.org")).toBe(r("a@x.org"));
    expect(t("VIP")).toBe(t("vip"));
    expect(dayKey(D, "message-id", "M1@x")).not.toBe(dayKey(D, "message-id", "m1@x"));
    expect(dayKey(D, "event", "Opened")).not.toBe(dayKey(D, "event", "opened"));
    expect(dayKey("other.example.com", "recipient", "a@x.org")).not.toBe(r("a@x.org"));
    expect(dayKey(D, "message-id", "a@x.org")).not.toBe(r("a@x.org"));
    expect(Number.isSafeInteger(r("a@x.org"))).toBe(true);
  });

  it("counts each event and distinct tag per day, and says a recipient and a message-id are there (n = 0)", () => {
    const keys = keysOfEvents([
      row({ tags: ["vip", "vip", "news"] }),
      row({ event: "clicked", tags: ["vip"] }),
      row({ ts: 4 * 86_400_000_000, messageId: null }),
    ]);
    const n = (day: number, key: number) => keys.find((k) => k.day === day && k.key === key)?.n;
    expect(n(3, r("a@x.org"))).toBe(0);
    expect(n(3, t("vip"))).toBe(2);
    expect(n(3, t("news"))).toBe(1);
    expect(n(3, dayKey(D, "event", "opened"))).toBe(1);
    expect(n(3, dayKey(D, "event", "clicked"))).toBe(1);
    expect(n(3, dayKey(D, "message-id", "m1@x"))).toBe(0);
    expect(n(4, r("a@x.org"))).toBe(0);
    expect(keys.filter((k) => k.day === 4)).toHaveLength(2); // no message-id key for a row without one
  });

  it("requires what every match has: terms and ANDs narrow, an OR keeps one group per side, NOT and comparisons require nothing", () => {
    expect(requiredKeys(D, { recipient: ["a@x.org"] })).toEqual([[r("a@x.org")]]);
    expect(requiredKeys(D, { recipient: ["a@x.org,b@x.org"] })).toEqual([[r("a@x.org"), r("b@x.org")]]);
    expect(requiredKeys(D, { tags: ["vip AND news"] })).toEqual([[t("vip")], [t("news")]]);
    expect(requiredKeys(D, { tags: ["vip AND NOT news"] })).toEqual([[t("vip")]]);
    expect(requiredKeys(D, { tags: ["NOT news"] })).toEqual([]);
    // (vip AND news) OR promo: vip OR promo is required, the narrowest group of each side.
    expect(requiredKeys(D, { tags: ["(vip AND news) OR promo"] })).toEqual([[t("vip"), t("promo")]]);
    // An OR with a side requiring nothing requires nothing.
    expect(requiredKeys(D, { tags: ["vip OR NOT news"] })).toEqual([]);
    // Fields without keys are left to the shards.
    expect(requiredKeys(D, { subject: ["hello"], severity: ["permanent"], size: [">10"] })).toEqual([]);
    expect(requiredKeys(D, { recipient: ["a@x.org"], tags: ["vip"] })).toEqual([[r("a@x.org")], [t("vip")]]);
  });

  it("says a day may hold at most the smallest counted group's sum, some when no group is counted, and 0 when a group has no key that day", () => {
    const e = (value: string) => dayKey(D, "event", value);
    const estimates = dayEstimates(
      [[e("opened"), e("clicked")], [t("vip")], [r("a@x.org")]],
      [
        { day: 1, key: e("opened"), n: 4 },
        { day: 1, key: e("clicked"), n: 3 },
        { day: 1, key: t("vip"), n: 9 },
        { day: 1, key: r("a@x.org"), n: 0 },
        { day: 2, key: e("opened"), n: 4 },
        { day: 2, key: r("a@x.org"), n: 0 },
        { day: 3, key: t("vip"), n: 2 },
        { day: 3, key: e("clicked"), n: 8 },
        { day: 3, key: r("a@x.org"), n: 0 },
        { day: 4, key: e("opened"), n: 1 },
        { day: 4, key: t("vip"), n: 1 },
      ],
    );
    expect(estimates.get(1)).toBe(7);
    expect(estimates.get(2)).toBe(0);
    expect(estimates.get(3)).toBe(2);
    expect(estimates.get(4)).toBe(0); // the recipient is not there
    expect(estimates.has(5)).toBe(false);
    const present = dayEstimates([[r("a@x.org")]], [{ day: 1, key: r("a@x.org"), n: 0 }]);
    expect(present.get(1)).toBe(Number.POSITIVE_INFINITY);
  });
});
