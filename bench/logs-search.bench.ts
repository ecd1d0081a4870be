// The panel's Logs searches over 100,000 events of one domain (test/support/bulk-events.ts, the
// data the browser test searches, five times as much): the page's answer time inside workerd, by
// the field searched. The browser test checks what these searches find and asserts no time; the
// time is here. A search is the whole panel request: session check, the Events API call it makes
// in-process, and the page rendered. Nothing is asserted about speed.
import { expect, it } from "vitest";
import { newSessionCookieValue, SESSION_COOKIE } from "../src/panel/session";
import { BULK_DOMAIN, bulkMessageId, bulkRecipient, bulkSubject, seedBulkEvents } from "../test/support/bulk-events";
import { AUTH, benchEnv, call, percentile, report } from "./harness";

const BULK = { events: 100_000, recipients: 400 };
const RUNS = 20;
const WARM_UP = 3;

it(`panel Logs search over ${BULK.events.toLocaleString("en")} events`, async () => {
  expect(await seedBulkEvents(benchEnv as unknown as Record<string, unknown>, Date.now(), BULK)).toBe(BULK.events);
  expect((await call("http://127.0.0.1/v4/domains", { method: "POST", headers: AUTH, body: new URLSearchParams({ name: BULK_DOMAIN }) })).status).toBe(200);

  const cookie = `${SESSION_COOKIE}=${await newSessionCookieValue("bench-api-key", Date.now())}`;
  const search = async (query: (run: number) => string, expected: number) => {
    const samples: number[] = [];
    for (let run = 0; run < RUNS + WARM_UP; run++) {
      const began = performance.now();
      const response = await call(`http://127.0.0.1/app/logs?domain=${BULK_DOMAIN}&${query(run)}`, { headers: { cookie } });
      const page = await response.text();
      if (run >= WARM_UP) samples.push(performance.now() - began);
      const rows = page.match(/<tr data-event=/g)?.length ?? 0;
      if (response.status !== 200 || rows !== expected) throw new Error(`${query(run)}: ${response.status}, ${rows} rows shown, expected ${expected}`);
    }
    return `${percentile(samples, 50).toFixed(1)} / ${percentile(samples, 95).toFixed(1)} / ${Math.max(...samples).toFixed(1)}`;
  };
  // A different recipient, message and subject each run: no answer comes from a warm page of D1.
  report("panel Logs, no filter, first 50 p50 / p95 / max (ms)", await search(() => "", 50));
  report(
    "panel Logs, by recipient (250 match, 50 shown) p50 / p95 / max (ms)",
    await search((run) => `recipient=${encodeURIComponent(bulkRecipient((run * 37) % BULK.recipients))}`, 50),
  );
  report("panel Logs, by Message-ID (4 match) p50 / p95 / max (ms)", await search((run) => `message-id=${encodeURIComponent(bulkMessageId(run * 1009))}`, 4));
  report("panel Logs, by tag (all match, 50 shown) p50 / p95 / max (ms)", await search(() => "tags=bulk", 50));
  report(
    "panel Logs, subject contains (a scan; 4 match) p50 / p95 / max (ms)",
    await search((run) => `subject=${encodeURIComponent(bulkSubject(24_999 - run * 7))}`, 4),
  );
});
