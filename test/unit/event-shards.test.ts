// The event shards' layout rules (src/domain/event-shards.ts): which database a (domain, day) is
// in, which layout a day follows, and what a set of bindings describes.
import { describe, expect, it } from "vitest";
import {
  CONTROL_DATABASE,
  domainHash,
  layoutOfBindings,
  layoutOn,
  MIN_RING_SLOTS,
  type ShardLayout,
  ShardLayoutError,
  shardFor,
  shardsOfSlot,
} from "../../src/domain/event-shards";

const ring = (slots: number, perSlot: number, pins: string[] = []) =>
  Array.from({ length: slots }, (_, s) => [...Array.from({ length: perSlot }, (_, k) => `EV_S${s}_K${k}`), ...pins.map((_, p) => `EV_S${s}_P${p}`)]).flat();

describe("event shard layout", () => {
  const layout: ShardLayout = { fromDay: 0, slots: 32, perSlot: 4, pins: ["big.example.com"] };

  it("puts a domain's day in one database of that day's slot, the same every time, and a pinned domain in its own", () => {
    for (const day of [0, 31, 32, 20_421]) {
      const name = shardFor(layout, "mg.example.org", day);
      expect(name).toBe(`EV_S${day % 32}_K${domainHash("mg.example.org") % 4}`);
      expect(shardsOfSlot(layout, day)).toContain(name);
      expect(shardFor(layout, "big.example.com", day)).toBe(`EV_S${day % 32}_P0`);
    }
    expect(shardFor({ ...layout, slots: 0 }, "mg.example.org", 5)).toBe(CONTROL_DATABASE);
  });

  it("spreads domains over a slot's databases evenly", () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[domainHash(`mg${i}.customer-${i * 7}.example.com`) % 4]!++;
    for (const count of counts) expect(count).toBeGreaterThan(850);
  });

  it("follows the layout in force on each day, and the unsharded one before the first", () => {
    const layouts: ShardLayout[] = [
      { fromDay: 0, slots: 0, perSlot: 0, pins: [] },
      { fromDay: 100, slots: 32, perSlot: 2, pins: [] },
      { fromDay: 200, slots: 40, perSlot: 4, pins: [] },
    ];
    expect(layoutOn(layouts, 99).slots).toBe(0);
    expect(layoutOn(layouts, 100).perSlot).toBe(2);
    expect(layoutOn(layouts, 199).perSlot).toBe(2);
    expect(layoutOn(layouts, 5000).slots).toBe(40);
    expect(layoutOn(layouts.slice(1), 50).slots).toBe(0);
  });

  it("reads the ring from the bindings and refuses an incomplete or too small one", () => {
    expect(layoutOfBindings(["DB", "EVENTS", ...ring(32, 2)], [])).toEqual({ slots: 32, perSlot: 2, pins: [] });
    expect(layoutOfBindings(["DB"], [])).toEqual({ slots: 0, perSlot: 0, pins: [] });
    expect(layoutOfBindings(ring(32, 1, ["a.example"]), ["a.example"])).toEqual({ slots: 32, perSlot: 1, pins: ["a.example"] });
    const refused = [
      () => layoutOfBindings(ring(MIN_RING_SLOTS - 1, 2), []),
      () =>
        layoutOfBindings(
          ring(32, 2).filter((name) => name !== "EV_S7_K1"),
          [],
        ),
      () => layoutOfBindings(ring(32, 1, ["a.example"]), []),
      () => layoutOfBindings(ring(32, 1), ["a.example"]),
      () => layoutOfBindings(["DB"], ["a.example"]),
      () => layoutOfBindings(ring(32, 1, ["a.example", "b.example"]), ["a.example", "a.example"]),
    ];
    for (const attempt of refused) expect(attempt).toThrow(ShardLayoutError);
  });
});
