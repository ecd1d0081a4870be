// The one-line summary of a Logs row (src/panel/event-summary.ts): pure.
import { describe, expect, it } from "vitest";
import { type LoggedEvent, SUMMARY_MAX_CHARS, summarizeEvent } from "../../src/panel/event-summary";

const base = { id: "e1", timestamp: 1, recipient: "ann@example.org" };

describe("summarizeEvent", () => {
  it("says what happened in one line: the relay's reply, the link, the client, the tags", () => {
    const cases: Array<[LoggedEvent, string]> = [
      [
        { ...base, event: "delivered", "delivery-status": { code: 250, message: "2.0.0 Ok: queued as 4F", "mx-host": "smtp.relay.example" } },
        "250 2.0.0 Ok: queued as 4F via smtp.relay.example",
      ],
      // Test mode says so once, whether or not the relay's message already does.
      [
        { ...base, event: "delivered", flags: { "is-test-mode": true }, "delivery-status": { code: 250, message: "OK (test mode: not sent)" } },
        "250 OK (test mode: not sent)",
      ],
      [{ ...base, event: "delivered", flags: { "is-test-mode": true }, "delivery-status": { code: 250, message: "OK" } }, "250 OK (test mode: not sent)"],
      [
        { ...base, event: "failed", reason: "bounce", "delivery-status": { code: 550, "enhanced-code": "5.1.1", message: "No such user" } },
        "bounce: 550 5.1.1 No such user",
      ],
      [{ ...base, event: "failed", reason: "generic", "delivery-status": { code: 421, message: "", description: "Try later" } }, "421 Try later"],
      [{ ...base, event: "clicked", url: "https://example.org/x", tags: ["a", "b"] }, "https://example.org/x · tags: a, b"],
      [{ ...base, event: "opened", "client-info": { "client-name": "Chrome", "device-type": "desktop" } }, "Opened in Chrome on desktop"],
      [{ ...base, event: "opened", "client-info": { "client-name": "unknown", "device-type": "unknown" } }, "Opened"],
      [{ ...base, event: "accepted", envelope: { sender: "bounce@example.com" } }, "From bounce@example.com"],
      [{ ...base, event: "rejected", reject: { reason: "Sandbox domain" } }, "Sandbox domain"],
      [{ ...base, event: "unsubscribed", tags: ["news"] }, "tags: news"],
    ];
    for (const [event, expected] of cases) expect(summarizeEvent(event), event.event).toBe(expected);
  });

  it("cuts a long URL, never the tags", () => {
    const summary = summarizeEvent({ ...base, event: "clicked", url: `https://example.org/${"x".repeat(500)}`, tags: ["t"] });
    expect(summary).toMatch(/… · tags: t$/);
    expect(summary.length).toBe(SUMMARY_MAX_CHARS + " · tags: t".length);
  });
});
