// What a cron run logs: nothing when no step did anything (npm start runs the cron every 30 s),
// one JSON line naming only the steps that did something otherwise. The run gets a database and a
// bucket of its own, so other files' rows cannot give it work.
import { applyD1Migrations, createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { insertEvents } from "../../src/db/events-store";
import { isShardBinding } from "../../src/domain/event-shards";
import { isStatsBinding } from "../../src/domain/stats-shards";
import { toEventRow } from "../../src/domain/tracking-event";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { buildEvent } from "../support/stats-seed";

// Without the event shards and the stats databases (they hold other files' events and stats): the
// run keeps every event and its stats in its own database.
const cronEnv = {
  ...Object.fromEntries(Object.entries(env).filter(([name]) => !isShardBinding(name) && !isStatsBinding(name))),
  DB: env.CRON_TEST_DB,
  MESSAGES: env.CRON_TEST_MESSAGES,
} as unknown as Env;

async function runCron(): Promise<string[]> {
  const log = vi.spyOn(console, "log");
  try {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), cronEnv, ctx);
    await waitOnExecutionContext(ctx);
    // Only JSON lines count: the runtime's own lines are not the cron's.
    return log.mock.calls.map((args) => String(args[0])).filter((line) => line.startsWith("{"));
  } finally {
    log.mockRestore();
  }
}

describe("cron run log", () => {
  beforeAll(async () => {
    await applyD1Migrations(cronEnv.DB, env.TEST_MIGRATIONS);
  });
  afterEach(() => vi.restoreAllMocks());

  it("logs nothing when no step did anything", async () => {
    expect(await runCron()).toEqual([]);
  });

  it("logs one line naming only the steps that did something", async () => {
    const domain = "cron-log.example.com";
    const now = Date.now();
    await insertEvents(cronEnv, [
      toEventRow(domain, buildEvent(domain, { event: "accepted", ms: now - 2000 })),
      toEventRow(domain, buildEvent(domain, { event: "delivered", ms: now - 1000 })),
    ]);
    const lines = await runCron();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toEqual({ msg: "cron run", steps: { "stats rollup": { events: 2, chunks: 1 } } });
    // The events are rolled up: the next run has nothing to do again.
    expect(await runCron()).toEqual([]);
  });
});
