// The bulk domain of the browser test's Logs searches (test/support/bulk-events.ts), written
// straight into the local D1 with `wrangler d1 execute --local` before the Worker starts. How long
// such searches take over 100,000 events is measured by `npm run bench` (bench/logs-search.bench.ts).

import { runWrangler } from "../node/start-worker";
import { BULK_DOMAIN, type BulkShape, bulkSeedStatements } from "../support/bulk-events";

export { BULK_DOMAIN, bulkMessageId, bulkRecipient, bulkSubject } from "../support/bulk-events";

/** 20,000 events to 100 recipients: 200 events each, so a recipient's search fills a page of 50 and has an older one. */
export const BULK: BulkShape = { events: 20_000, recipients: 100 };

export function seedBulkEvents(state: string, nowMs = Date.now()): void {
  const sql = bulkSeedStatements(nowMs, BULK).join(";\n");
  const output = runWrangler(["d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql]);
  const results = JSON.parse(output) as Array<{ results: Array<{ n?: number }> }>;
  const n = results.at(-1)?.results[0]?.n;
  if (n !== BULK.events) throw new Error(`seeded ${n} events of ${BULK_DOMAIN}, expected ${BULK.events}`);
}
