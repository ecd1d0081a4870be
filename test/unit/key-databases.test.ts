// Where a domain's day keys live (src/domain/key-databases.ts): its key database by the hash that
// spreads its events and stats, its stats database without key databases, and when the keys a
// page finds can rule days out.
import { describe, expect, it } from "vitest";
import { domainHash, ShardLayoutError } from "../../src/domain/event-shards";
import { isKeysBinding, keysCountOfBindings, keysFor, keysLayoutName, keysUsable } from "../../src/domain/key-databases";
import { statsFor } from "../../src/domain/stats-shards";

const DOMAINS = Array.from({ length: 200 }, (_, i) => `d${i}.example.com`);

describe("key databases", () => {
  it("hold a domain's keys in KEYS_<hash % m>, every one used, and in its stats database when there are none", () => {
    for (const domain of DOMAINS) {
      expect(keysFor(domain, 4, 4)).toBe(`KEYS_${domainHash(domain) % 4}`);
      expect(keysFor(domain, 0, 4)).toBe(statsFor(domain, 4));
      expect(keysFor(domain, 0, 0)).toBe("DB");
    }
    expect(new Set(DOMAINS.map((domain) => keysFor(domain, 4, 4))).size).toBe(4);
  });

  it("are counted from their bindings, a gap refused", () => {
    expect(keysCountOfBindings(["DB", "STATS_0", "KEYS_0", "KEYS_1", "EV_S0_K0"])).toBe(2);
    expect(keysCountOfBindings(["DB", "STATS_0"])).toBe(0);
    expect(() => keysCountOfBindings(["KEYS_0", "KEYS_2"])).toThrow(ShardLayoutError);
    expect(() => keysCountOfBindings(["KEYS_0", "KEYS_2"])).toThrow("key database KEYS_1 is missing");
    expect(["KEYS_0", "KEYS_12", "KEYS_", "KEYS_1x", "XKEYS_1", "keys_1"].map(isKeysBinding)).toEqual([true, true, false, false, false, false]);
  });

  it("rule days out only where the recorded layout is this Worker's, or none is recorded", () => {
    expect(keysLayoutName(4)).toBe("KEYS_4");
    expect(keysLayoutName(0)).toBe("STATS");
    expect(keysUsable("KEYS_4", 4)).toBe(true);
    expect(keysUsable(null, 4)).toBe(true);
    expect(keysUsable(undefined, 0)).toBe(true);
    expect(keysUsable("STATS", 0)).toBe(true);
    expect(keysUsable("STATS", 4)).toBe(false);
    expect(keysUsable("KEYS_2", 4)).toBe(false);
    expect(keysUsable("KEYS_4", 0)).toBe(false);
  });
});
