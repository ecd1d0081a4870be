// DomainState: one Durable Object per sending domain, holding the state that must be consistent
// for that domain (design rule 3): its suppression lists (bounces, unsubscribes, complaints and
// the allowlist), in the object's SQLite storage. The send path checks a message's recipients in
// one call; the events consumer and the Suppressions API write here.
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { suppressionFor, type SuppressionOutcome } from "../domain/suppression";
import { SUPPRESSION_KINDS, MAX_SUPPRESSION_LIMIT, type SuppressionKind, type SuppressionListQuery, type SuppressionRow } from "../domain/suppression-list";
import type { Env } from "../env";
import { KIND_TABLES, getOneSql, listQuerySql } from "./suppression-tables";

/** The tag that stands for "every message of the domain". */
export const ALL_TAGS = "*";

const address = z.string().min(3).max(320).transform((a) => a.trim().toLowerCase());
const millis = z.number().int().nonnegative();

const unsubscribeSchema = z.object({
  address,
  tags: z.array(z.string().min(1).max(256)).min(1).max(100),
  /** Unix milliseconds. */
  createdAt: millis,
});
export type UnsubscribeRecord = z.input<typeof unsubscribeSchema>;

const bounceSchema = z.object({ address, code: z.number().int().min(0).max(999), error: z.string().max(2000), createdAt: millis });
export type BounceRecord = z.input<typeof bounceSchema>;

const complaintSchema = z.object({ address, createdAt: millis });
export type ComplaintRecord = z.input<typeof complaintSchema>;

/** The allowlist holds an address or a whole recipient domain. */
const allowlistSchema = z.object({
  type: z.enum(["address", "domain"]),
  value: z.string().min(1).max(320).transform((v) => v.trim().toLowerCase()),
  reason: z.string().max(2000),
  createdAt: millis,
});
export type AllowlistRecord = z.input<typeof allowlistSchema>;

const kindSchema = z.enum(SUPPRESSION_KINDS);
const keySchema = z.string().min(1).max(320).transform((k) => k.trim().toLowerCase());
const tagSchema = z.string().min(1).max(256).transform((t) => (t === ALL_TAGS ? t : t.toLowerCase()));
const listSchema = z.object({
  page: z.enum(["first", "next", "previous", "last"]),
  limit: z.number().int().min(1).max(MAX_SUPPRESSION_LIMIT),
  address: keySchema.optional(),
  term: z.string().max(320).optional(),
});

const checkSchema = z.object({
  recipients: z.array(z.string().max(320)).max(1000),
  tags: z.array(z.string().max(256)).max(100),
});

export interface RecipientCheck {
  recipient: string;
  /** Why the message must not go to this recipient; null to deliver. */
  suppressed: SuppressionOutcome | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS unsubscribes (
  address TEXT NOT NULL,       -- lower-cased
  tag TEXT NOT NULL,           -- '*' for the whole domain, else a lower-cased tag
  created_at INTEGER NOT NULL, -- unix milliseconds of the first unsubscribe
  PRIMARY KEY (address, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bounces (
  address TEXT PRIMARY KEY NOT NULL, -- lower-cased
  code INTEGER NOT NULL,             -- SMTP code, 550 by default
  error TEXT NOT NULL,
  created_at INTEGER NOT NULL        -- unix milliseconds of the latest bounce
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS complaints (
  address TEXT PRIMARY KEY NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS allowlist (
  value TEXT PRIMARY KEY NOT NULL,   -- lower-cased address, or a recipient domain
  type TEXT NOT NULL CHECK (type IN ('address', 'domain')),
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;`;

export class DomainState extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  /** Idempotent: an address already unsubscribed from a tag keeps its first created_at. */
  async addUnsubscribes(records: UnsubscribeRecord[]): Promise<number> {
    const valid = z.array(unsubscribeSchema).max(1000).parse(records);
    let added = 0;
    this.ctx.storage.transactionSync(() => {
      for (const record of valid) {
        for (const tag of record.tags) {
          added += this.ctx.storage.sql.exec(
            "INSERT OR IGNORE INTO unsubscribes (address, tag, created_at) VALUES (?, ?, ?)",
            record.address,
            tag === ALL_TAGS ? ALL_TAGS : tag.toLowerCase(),
            record.createdAt,
          ).rowsWritten;
        }
      }
    });
    return added;
  }

  /** The unsubscribe record of one address (tags it left, first created_at), or null. */
  async getUnsubscribe(addressText: string): Promise<{ address: string; tags: string[]; createdAt: number } | null> {
    const key = address.parse(addressText);
    const rows = this.ctx.storage.sql
      .exec<{ tag: string; created_at: number }>("SELECT tag, created_at FROM unsubscribes WHERE address = ? ORDER BY tag", key)
      .toArray();
    if (rows.length === 0) return null;
    return { address: key, tags: rows.map((r) => r.tag), createdAt: Math.min(...rows.map((r) => r.created_at)) };
  }

  /**
   * Adds hard bounces; a repeat bounce updates code, error and time. Allowlisted addresses (or
   * addresses in an allowlisted domain) are never added. Returns how many were added or updated.
   */
  async addBounces(records: BounceRecord[]): Promise<number> {
    const valid = z.array(bounceSchema).max(1000).parse(records);
    let written = 0;
    this.ctx.storage.transactionSync(() => {
      for (const record of valid) {
        if (this.#isAllowlisted(record.address)) continue;
        written += this.ctx.storage.sql.exec(
          `INSERT INTO bounces (address, code, error, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (address) DO UPDATE SET code = excluded.code, error = excluded.error, created_at = excluded.created_at`,
          record.address,
          record.code,
          record.error,
          record.createdAt,
        ).rowsWritten;
      }
    });
    return written;
  }

  /** Idempotent: a repeat complaint keeps the first time. */
  async addComplaints(records: ComplaintRecord[]): Promise<number> {
    const valid = z.array(complaintSchema).max(1000).parse(records);
    let added = 0;
    this.ctx.storage.transactionSync(() => {
      for (const record of valid) {
        added += this.ctx.storage.sql.exec("INSERT OR IGNORE INTO complaints (address, created_at) VALUES (?, ?)", record.address, record.createdAt).rowsWritten;
      }
    });
    return added;
  }

  /** Allowlisting an address also lifts any bounce it had: it must be deliverable. */
  async addToAllowlist(record: AllowlistRecord): Promise<void> {
    await this.addAllowlistEntries([record]);
  }

  /** addToAllowlist for up to 1000 entries at once (the CSV import); returns how many. */
  async addAllowlistEntries(records: AllowlistRecord[]): Promise<number> {
    const valid = z.array(allowlistSchema).max(1000).parse(records);
    this.ctx.storage.transactionSync(() => {
      for (const entry of valid) {
        this.ctx.storage.sql.exec(
          `INSERT INTO allowlist (value, type, reason, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (value) DO UPDATE SET type = excluded.type, reason = excluded.reason`,
          entry.value,
          entry.type,
          entry.reason,
          entry.createdAt,
        );
        if (entry.type === "address") this.ctx.storage.sql.exec("DELETE FROM bounces WHERE address = ?", entry.value);
        else this.ctx.storage.sql.exec("DELETE FROM bounces WHERE address LIKE ? ESCAPE '\\'", `%@${entry.value.replace(/[\\%_]/g, "\\$&")}`);
      }
    });
    return valid.length;
  }

  /** One page of a list, alphabetical by address (allowlist: by value). */
  async listSuppressions(kind: SuppressionKind, query: SuppressionListQuery): Promise<SuppressionRow[]> {
    const { sql, params, reversed } = listQuerySql(kindSchema.parse(kind), listSchema.parse(query));
    const rows = this.ctx.storage.sql.exec(sql, ...params).toArray().map(KIND_TABLES[kind].toRow);
    return reversed ? rows.reverse() : rows;
  }

  /** The record of one address (allowlist: address or domain), or null. */
  async getSuppression(kind: SuppressionKind, key: string): Promise<SuppressionRow | null> {
    const row = this.ctx.storage.sql.exec(getOneSql(kindSchema.parse(kind)), keySchema.parse(key)).toArray()[0];
    return row ? KIND_TABLES[kind].toRow(row) : null;
  }

  /** Removes one record; for unsubscribes, `tag` removes just that tag. False when nothing matched. */
  async deleteSuppression(kind: SuppressionKind, key: string, tag?: string): Promise<boolean> {
    const t = KIND_TABLES[kindSchema.parse(kind)];
    const value = keySchema.parse(key);
    const cursor =
      tag !== undefined && kind === "unsubscribes"
        ? this.ctx.storage.sql.exec("DELETE FROM unsubscribes WHERE address = ? AND tag = ?", value, tagSchema.parse(tag))
        : this.ctx.storage.sql.exec(`DELETE FROM ${t.table} WHERE ${t.key} = ?`, value);
    return cursor.rowsWritten > 0;
  }

  /** Empties one list; returns how many rows went. */
  async clearSuppressions(kind: SuppressionKind): Promise<number> {
    return this.ctx.storage.sql.exec(`DELETE FROM ${KIND_TABLES[kindSchema.parse(kind)].table}`).rowsWritten;
  }

  /**
   * Checks every recipient of one message in one call: the send path asks once per message, not
   * once per recipient. Recipients come back in the order given.
   */
  async checkRecipients(recipients: string[], tags: string[]): Promise<RecipientCheck[]> {
    const input = checkSchema.parse({ recipients, tags });
    const keys = input.recipients.map((r) => r.trim().toLowerCase());
    const wanted = JSON.stringify([...new Set(keys)]);
    const records = new Map(keys.map((k) => [k, { bounced: false, complained: false, unsubscribedTags: [] as string[] }]));
    const sql = this.ctx.storage.sql;
    for (const row of sql.exec<{ address: string }>("SELECT address FROM bounces WHERE address IN (SELECT value FROM json_each(?))", wanted)) {
      records.get(row.address)!.bounced = true;
    }
    for (const row of sql.exec<{ address: string }>("SELECT address FROM complaints WHERE address IN (SELECT value FROM json_each(?))", wanted)) {
      records.get(row.address)!.complained = true;
    }
    for (const row of sql.exec<{ address: string; tag: string }>("SELECT address, tag FROM unsubscribes WHERE address IN (SELECT value FROM json_each(?))", wanted)) {
      records.get(row.address)!.unsubscribedTags.push(row.tag);
    }
    return input.recipients.map((recipient, i) => ({ recipient, suppressed: suppressionFor(records.get(keys[i]!)!, input.tags) }));
  }

  #isAllowlisted(addressKey: string): boolean {
    const domain = addressKey.slice(addressKey.lastIndexOf("@") + 1);
    return this.ctx.storage.sql.exec("SELECT 1 FROM allowlist WHERE value = ? OR (type = 'domain' AND value = ?) LIMIT 1", addressKey, domain).toArray().length > 0;
  }
}
