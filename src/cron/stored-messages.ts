// Cron step: deletes stored messages past retention (src/db/stored-messages.ts), whole days at a
// time, at most 20 pages of 1,000 objects per run; the next run goes on. Binding: MESSAGES.
import { purgeStoredMessages } from "../db/stored-messages";
import type { Env } from "../env";

/** Up to 20,000 objects per run: 240,000 an hour at one run every 5 minutes. */
export const STORED_PURGE_PAGES_PER_RUN = 20;

export function purgeStoredMessagesStep(env: Env, now: number): Promise<{ deleted: number; unfinished: boolean }> {
  return purgeStoredMessages(env.MESSAGES, now, STORED_PURGE_PAGES_PER_RUN);
}
