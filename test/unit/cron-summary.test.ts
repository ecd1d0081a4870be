// The cron run's log line (src/domain/cron-summary.ts): only steps that did something, only their
// non-zero counts and true flags.
import { describe, expect, it } from "vitest";
import { cronRunLine } from "../../src/domain/cron-summary";

describe("cronRunLine", () => {
  it("is null when every count is zero and every flag false", () => {
    const reports = new Map([
      ["retention purge", { events: 0, messages: 0, returnPaths: 0, unfinished: false }],
      ["webhook ledger purge", { deleted: 0 }],
    ]);
    expect(cronRunLine(reports)).toBeNull();
    expect(cronRunLine(new Map())).toBeNull();
  });

  it("keeps the steps that did something, with their positive counts and true flags", () => {
    const reports = new Map([
      ["retention purge", { events: 1000, messages: 0, returnPaths: 3, unfinished: true }],
      ["webhook ledger purge", { deleted: 0 }],
      ["dns checks", { checked: 2, valid: 0, invalid: 0, failed: 2 }],
    ]);
    expect(cronRunLine(reports)).toEqual({
      msg: "cron run",
      steps: { "retention purge": { events: 1000, returnPaths: 3, unfinished: true }, "dns checks": { checked: 2, failed: 2 } },
    });
  });
});
