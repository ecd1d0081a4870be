// Forgets the control database's finished webhook deliveries once they can no longer matter: a
// success or refusal after 2 days (a queue redelivery comes within hours; the retry schedule spans
// about 7.5 h), a dead letter after 30 days (the longest event retention). Bounded per run.
// Bindings: DB. The done rows there are those written before the ledger moved into the event shards
// and those of events past every retention; the shards' ledgers are emptied with their slots.
import { purgeDeliveries } from "../db/webhooks";
import type { Env } from "../env";

const DAY_MS = 86_400_000;
const KEEP_DONE_MS = 2 * DAY_MS;
const KEEP_DEAD_MS = 30 * DAY_MS;
const ROWS_PER_CHUNK = 1000;
const MAX_CHUNKS_PER_RUN = 20;

export async function purgeWebhookLedger(env: Pick<Env, "DB">, now: number): Promise<{ deleted: number }> {
  let deleted = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS_PER_RUN; chunk++) {
    const n = await purgeDeliveries(env.DB, now - KEEP_DONE_MS, now - KEEP_DEAD_MS, ROWS_PER_CHUNK);
    deleted += n;
    if (n < ROWS_PER_CHUNK) break;
  }
  return { deleted };
}
