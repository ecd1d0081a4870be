// The bulk domain of the browser test's Logs searches (test/support/bulk-events.ts), written
// straight into the local D1 databases (through wrangler's local bindings, the state `wrangler dev`
// reads) before the Worker starts. How long such searches take over 100,000 events is measured by
// `npm run bench` (bench/logs-search.bench.ts).

import { localDatabases } from "../../src/tools/migrate-local.mjs";
import { BULK_DOMAIN, type BulkShape, seedBulkEvents as seedInto } from "../support/bulk-events";

export { BULK_DOMAIN, bulkMessageId, bulkRecipient, bulkSubject } from "../support/bulk-events";

/** 20,000 events to 100 recipients: 200 events each, so a recipient's search fills a page of 50 and has an older one. */
export const BULK: BulkShape = { events: 20_000, recipients: 100 };

export async function seedBulkEvents(state: string, nowMs = Date.now()): Promise<void> {
  const local = await localDatabases(state);
  try {
    const n = await seedInto(local.env, nowMs, BULK);
    if (n !== BULK.events) throw new Error(`seeded ${n} events of ${BULK_DOMAIN}, expected ${BULK.events}`);
  } finally {
    await local.dispose();
  }
}
