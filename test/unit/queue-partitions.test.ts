// Which partition of the events and webhooks queues carries a domain: stable, spread, and read
// from the bindings present.
import { describe, expect, it } from "vitest";
import { domainHash } from "../../src/domain/event-shards";
import {
  partitionBinding,
  partitionCountOfBindings,
  partitionOf,
  partitionQueueName,
  QueuePartitionError,
  queueFamilyOf,
} from "../../src/domain/queue-partitions";

describe("queue partitions", () => {
  it("choose by the event shards' FNV-1a of the domain, the same in every isolate and deploy", () => {
    // Fixed values: a change of hash would move every domain's messages (and break these).
    expect(domainHash("example.com")).toBe(0x431ceb26);
    expect(partitionOf("example.com", 2)).toBe(0x431ceb26 % 2);
    expect(partitionOf("example.com", 7)).toBe(0x431ceb26 % 7);
    for (const domain of ["a.example.com", "mail.shop.test", "x"]) {
      expect(partitionOf(domain, 5)).toBe(partitionOf(domain, 5));
      expect(partitionOf(domain, 1)).toBe(0);
    }
  });

  it("spread many domains evenly over the partitions", () => {
    for (const count of [2, 3, 4, 16]) {
      const load = new Array<number>(count).fill(0);
      const domains = 4000;
      for (let i = 0; i < domains; i++) load[partitionOf(`customer${i}.example.com`, count)]!++;
      // Each partition within 15% of its fair share.
      for (const n of load) expect(Math.abs(n - domains / count)).toBeLessThan((0.15 * domains) / count);
    }
  });

  it("keep partition 0's names, so that a deployment that grows keeps its queue", () => {
    expect([0, 1, 2].map((i) => partitionBinding("events", i))).toEqual(["EVENTS", "EVENTS_1", "EVENTS_2"]);
    expect([0, 1].map((i) => partitionQueueName("webhooks", i))).toEqual(["tidings-webhooks", "tidings-webhooks-1"]);
  });

  it("count the partitions among the bindings and refuse a gap", () => {
    const names = ["DB", "EVENTS", "EVENTS_DLQ", "EVENTS_1", "EVENTS_2", "WEBHOOKS", "DELIVERY"];
    expect(partitionCountOfBindings(names, "events")).toBe(3);
    expect(partitionCountOfBindings(names, "webhooks")).toBe(1);
    expect(partitionCountOfBindings(["DB"], "webhooks")).toBe(0);
    expect(() => partitionCountOfBindings(["EVENTS", "EVENTS_2"], "events")).toThrow(QueuePartitionError);
    expect(() => partitionCountOfBindings(["EVENTS_1"], "events")).toThrow("EVENTS is missing");
  });

  it("route every partition's queue to its queue's consumer and nothing else", () => {
    expect(queueFamilyOf("tidings-events-1")).toBe("tidings-events");
    expect(queueFamilyOf("tidings-webhooks-12")).toBe("tidings-webhooks");
    for (const name of ["tidings-events", "tidings-events-dlq", "tidings-delivery-1", "tidings-events-0", "tidings-rollups", "tidings-events-1x"])
      expect(queueFamilyOf(name)).toBe(name);
  });
});
