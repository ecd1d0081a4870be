// Names that come from outside (a delivery report's field names, an event's failure reason) are
// looked up with Object.hasOwn, so built-in property names are ordinary names (issue 11, item 8).
import { describe, expect, it } from "vitest";
import { fillTemplate } from "../../src/domain/recipient-template";
import { countersOf, type RollupEvent } from "../../src/domain/stats-counters";
import { parseFieldGroups } from "../../src/inbound/reports";

describe("lookups keyed by outside names", () => {
  it("fills %recipient.x% only from the recipient's own variables", () => {
    const variables = JSON.parse('{"name": "Ann", "__proto__": "own"}') as Record<string, unknown>;
    expect(fillTemplate("Hi %recipient.name%: %recipient.constructor%%recipient.toString%%recipient.__proto__%", variables)).toBe("Hi Ann: own");
  });

  it("keeps a report field named like a built-in property", () => {
    expect(parseFieldGroups("Constructor: x\nAction: failed")).toEqual([{ constructor: "x", action: "failed" }]);
  });

  it("counts a permanent failure whose reason is a built-in name as an unsplit permanent failure", () => {
    const base: RollupEvent = {
      domain: "d.example",
      ts: 0,
      event: "failed",
      severity: "permanent",
      reason: null,
      messageId: "m",
      recipient: "r@example.org",
      isAuthenticated: true,
      isDelayedBounce: false,
      transport: null,
      bot: null,
      device: null,
      country: null,
      provider: null,
      tags: [],
    };
    for (const reason of ["constructor", "toString", "__proto__"]) expect(countersOf({ ...base, reason }), reason).toEqual(["failed_permanent"]);
  });
});
