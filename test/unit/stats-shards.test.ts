// Which stats database holds a domain's rollups, and which ones an event shard's rollup writes to.
import { describe, expect, it } from "vitest";
import { CONTROL_DATABASE, domainHash, type ShardLayout, ShardLayoutError } from "../../src/domain/event-shards";
import { statsCountOfBindings, statsFor, statsTargetsOf } from "../../src/domain/stats-shards";

const ring = (perSlot: number, pins: string[] = [], fromDay = 0): ShardLayout => ({ fromDay, slots: 32, perSlot, pins });

describe("stats databases", () => {
  it("count STATS_0..n-1 among the bindings and refuse a gap", () => {
    expect(statsCountOfBindings(["DB", "EV_S0_K0"])).toBe(0);
    expect(statsCountOfBindings(["DB", "STATS_1", "STATS_0", "STATS_2"])).toBe(3);
    expect(() => statsCountOfBindings(["STATS_0", "STATS_2"])).toThrow(ShardLayoutError);
  });

  it("give a domain the database of its hash, or the control database when there are none", () => {
    for (const domain of ["a.example.com", "b.example.com", "mail.shop.test"]) {
      expect(statsFor(domain, 4)).toBe(`STATS_${domainHash(domain) % 4}`);
      expect(statsFor(domain, 0)).toBe(CONTROL_DATABASE);
    }
  });

  it("feed a hashed shard into one database when every layout's width is a multiple of n, else each", () => {
    expect(statsTargetsOf("EV_S3_K5", [ring(8)], 4)).toEqual(["STATS_1"]);
    expect(statsTargetsOf("EV_S3_K1", [ring(2), ring(4, [], 100)], 2)).toEqual(["STATS_1"]);
    // A ring of 3 per slot with 2 stats databases: a shard holds domains of both.
    expect(statsTargetsOf("EV_S3_K1", [ring(2), ring(3, [], 100)], 2)).toEqual(["STATS_0", "STATS_1"]);
    // Every domain of a hashed shard has hash % perSlot = k, so hash % n = k % n: checked over many names.
    for (let i = 0; i < 500; i++) {
      const domain = `d${i}.example.com`;
      const k = domainHash(domain) % 8;
      expect(statsTargetsOf(`EV_S0_K${k}`, [ring(8)], 4)).toEqual([statsFor(domain, 4)]);
    }
  });

  it("feed a pinned shard into its domain's database, the control database's days into each", () => {
    const pins = ["big.example.com", "huge.example.com"];
    expect(statsTargetsOf("EV_S0_P1", [ring(4, pins)], 4)).toEqual([statsFor("huge.example.com", 4)]);
    expect(statsTargetsOf(CONTROL_DATABASE, [ring(4, pins)], 2)).toEqual(["STATS_0", "STATS_1"]);
    expect(statsTargetsOf("EV_S0_K0", [ring(4)], 0)).toEqual([CONTROL_DATABASE]);
  });
});
