import { describe, expect, it } from "vitest";
import { admitNewTags, planRollup, seenKey } from "../../src/domain/rollup-plan";
import { type RollupEvent, STATS_COUNTERS } from "../../src/domain/stats-counters";

const HOUR = Date.UTC(2026, 10, 26, 9) * 1000;
const hit = (patch: Partial<RollupEvent>): RollupEvent => ({
  domain: "d",
  ts: HOUR + 1000,
  event: "opened",
  severity: null,
  reason: null,
  messageId: "m1",
  recipient: "bob@x",
  isAuthenticated: false,
  isDelayedBounce: false,
  transport: null,
  bot: "",
  device: "desktop",
  country: "NL",
  provider: "x",
  tags: [],
  ...patch,
});
const col = (name: (typeof STATS_COUNTERS)[number]) => STATS_COUNTERS.indexOf(name);

/** Counter values of the rows whose key starts with `key`. */
function counters(rows: Array<Array<string | number>>, key: Array<string | number>, keyLength: number) {
  const row = rows.find((r) => key.every((k, i) => r[i] === k));
  if (!row) return undefined;
  return Object.fromEntries(STATS_COUNTERS.map((name) => [name, row[keyLength + col(name)]]));
}

describe("planRollup", () => {
  it("counts every open in total and one per message and recipient in unique", () => {
    const plan = planRollup([hit({}), hit({ ts: HOUR + 2000 }), hit({ recipient: "ann@x" }), hit({ messageId: "m2" })], new Set(), () => []);
    const day = counters(plan.counters, ["d", "", "day"], 4)!;
    expect(day.opened).toBe(4);
    expect(day.opened_unique).toBe(3);
    expect(plan.seen.filter((s) => s[3] === "opened")).toHaveLength(3);
  });

  it("does not count again what the seen-set already holds", () => {
    const seen = new Set([seenKey("d", "m1", "bob@x", "opened"), seenKey("d", "m1", "bob@x", "opened:")]);
    const plan = planRollup([hit({})], seen, () => []);
    expect(counters(plan.counters, ["d", "", "hour"], 4)).toMatchObject({ opened: 1, opened_unique: 0 });
    expect(plan.seen).toEqual([]);
  });

  it("keeps bots apart in the bot dimension, with their own uniques", () => {
    const plan = planRollup([hit({ bot: "apple" }), hit({ bot: "apple", ts: HOUR + 5000 }), hit({ bot: "" })], new Set(), () => []);
    const dayStart = Date.UTC(2026, 10, 26) / 1000;
    expect(counters(plan.dimensions, ["d", "", "bot", "apple", dayStart], 5)).toMatchObject({ opened: 2, opened_unique: 1 });
    // The person's open is their first one even though the proxy opened first.
    expect(counters(plan.dimensions, ["d", "", "bot", "", dayStart], 5)).toMatchObject({ opened: 1, opened_unique: 1 });
    // All clients together: three opens, one unique.
    expect(counters(plan.counters, ["d", "", "day"], 4)).toMatchObject({ opened: 3, opened_unique: 1 });
    expect(counters(plan.dimensions, ["d", "", "country", "nl", dayStart], 5)).toMatchObject({ opened: 3, opened_unique: 1 });
  });

  it("adds rows per kept tag, and tag times in milliseconds", () => {
    const plan = planRollup([hit({ tags: ["a", "b"] }), hit({ tags: ["a"], ts: HOUR + 9_000_000 })], new Set(), (e) => e.tags.filter((t) => t === "a"));
    expect(counters(plan.counters, ["d", "a", "hour"], 4)).toMatchObject({ opened: 2 });
    expect(counters(plan.counters, ["d", "b", "hour"], 4)).toBeUndefined();
    expect(counters(plan.counters, ["d", "", "hour"], 4)).toMatchObject({ opened: 2 });
    expect(plan.tags).toEqual([["d", "a", HOUR / 1000 + 1, HOUR / 1000 + 9000]]);
  });

  it("puts provider on every event and country, device and bot on hits only", () => {
    const plan = planRollup([hit({ event: "delivered", bot: null, device: null, country: null })], new Set(), () => []);
    expect(plan.dimensions.map((r) => r[2])).toEqual(["provider"]);
  });
});

describe("admitNewTags", () => {
  it("admits new tags in order until the domain holds the limit", () => {
    expect(admitNewTags(["a", "b", "c"], 0, 2)).toEqual(["a", "b"]);
    expect(admitNewTags(["a", "b"], 2, 2)).toEqual([]);
    expect(admitNewTags(["a"], 5, 2)).toEqual([]);
  });
});
