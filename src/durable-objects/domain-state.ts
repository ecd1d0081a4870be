// DomainState: one Durable Object per sending domain, holding the state that must be consistent
// for that domain (design rule 3): its suppression lists, in the object's SQLite storage.
// This issue brings unsubscribes; bounces, complaints and the allowlist follow with their API.
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import type { Env } from "../env";

/** The tag that stands for "every message of the domain". */
export const ALL_TAGS = "*";

const unsubscribeSchema = z.object({
  address: z.string().min(3).max(320),
  tags: z.array(z.string().min(1).max(256)).min(1).max(100),
  /** Unix milliseconds. */
  createdAt: z.number().int().nonnegative(),
});
export type UnsubscribeRecord = z.infer<typeof unsubscribeSchema>;

export class DomainState extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS unsubscribes (
      address TEXT NOT NULL,       -- lower-cased
      tag TEXT NOT NULL,           -- '*' for the whole domain, else a lower-cased tag
      created_at INTEGER NOT NULL, -- unix milliseconds of the first unsubscribe
      PRIMARY KEY (address, tag)
    ) WITHOUT ROWID`);
  }

  /** Idempotent: an address already unsubscribed from a tag keeps its first created_at. */
  async addUnsubscribes(records: UnsubscribeRecord[]): Promise<number> {
    const valid = z.array(unsubscribeSchema).max(1000).parse(records);
    let added = 0;
    this.ctx.storage.transactionSync(() => {
      for (const record of valid) {
        for (const tag of record.tags) {
          const cursor = this.ctx.storage.sql.exec(
            "INSERT OR IGNORE INTO unsubscribes (address, tag, created_at) VALUES (?, ?, ?)",
            record.address.toLowerCase(),
            tag === ALL_TAGS ? ALL_TAGS : tag.toLowerCase(),
            record.createdAt,
          );
          added += cursor.rowsWritten;
        }
      }
    });
    return added;
  }

  /** The unsubscribe record of one address (tags it left, first created_at), or null. */
  async getUnsubscribe(address: string): Promise<{ address: string; tags: string[]; createdAt: number } | null> {
    const rows = this.ctx.storage.sql
      .exec<{ tag: string; created_at: number }>(
        "SELECT tag, created_at FROM unsubscribes WHERE address = ? ORDER BY tag",
        z.string().max(320).parse(address).toLowerCase(),
      )
      .toArray();
    if (rows.length === 0) return null;
    return { address: address.toLowerCase(), tags: rows.map((r) => r.tag), createdAt: Math.min(...rows.map((r) => r.created_at)) };
  }
}
