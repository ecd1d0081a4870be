import { describe, expect, it } from "vitest";
import { groupBy } from "../../src/domain/group-by";

describe("groupBy", () => {
  it("groups in the order first seen, keeps each group's order, and leaves out items keyed null", () => {
    const groups = groupBy(["b1", "a1", "x", "b2", "a2"], (item) => (item === "x" ? null : item[0]!));
    expect([...groups]).toEqual([
      ["b", ["b1", "b2"]],
      ["a", ["a1", "a2"]],
    ]);
  });
});
