// DomainState: one Durable Object per sending domain, holding the state that must be consistent
// for that domain (design rule 3): its suppression lists (bounces, unsubscribes, complaints and
// the allowlist), in the object's SQLite storage. The send path checks a message's recipients in
// one call; the events consumer and the Suppressions API write here.
import { DurableObject } from "cloudflare:workers";
import { isRefused, type Refused } from "../domain/refusal";
import { type SuppressionOutcome, suppressionFor } from "../domain/suppression";
import type { SuppressionKind, SuppressionListQuery, SuppressionRow } from "../domain/suppression-list";
import type { Env } from "../env";
import {
  ALL_TAGS,
  type AllowlistRecord,
  accept,
  addressInput,
  allowlistInput,
  type BounceRecord,
  bouncesInput,
  type ComplaintRecord,
  checkInput,
  complaintsInput,
  keyInput,
  kindInput,
  listInput,
  tagInput,
  type UnsubscribeRecord,
  unsubscribesInput,
} from "./domain-state-input";
import { getOneSql, KIND_TABLES, listQuerySql } from "./suppression-tables";

export { ALL_TAGS, type AllowlistRecord, type BounceRecord, type ComplaintRecord, type UnsubscribeRecord };

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

/**
 * Every public method checks its arguments (domain-state-input.ts) and answers input it will not
 * take with a Refused value instead of throwing: see domain/refusal.ts.
 */
export class DomainState extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  /** Idempotent: an address already unsubscribed from a tag keeps its first created_at. */
  async addUnsubscribes(records: UnsubscribeRecord[]): Promise<number | Refused> {
    const valid = accept(unsubscribesInput, records);
    if (isRefused(valid)) return valid;
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
  async getUnsubscribe(addressText: string): Promise<{ address: string; tags: string[]; createdAt: number } | null | Refused> {
    const key = accept(addressInput, addressText);
    if (isRefused(key)) return key;
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
  async addBounces(records: BounceRecord[]): Promise<number | Refused> {
    const valid = accept(bouncesInput, records);
    if (isRefused(valid)) return valid;
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
  async addComplaints(records: ComplaintRecord[]): Promise<number | Refused> {
    const valid = accept(complaintsInput, records);
    if (isRefused(valid)) return valid;
    let added = 0;
    this.ctx.storage.transactionSync(() => {
      for (const record of valid) {
        added += this.ctx.storage.sql.exec(
          "INSERT OR IGNORE INTO complaints (address, created_at) VALUES (?, ?)",
          record.address,
          record.createdAt,
        ).rowsWritten;
      }
    });
    return added;
  }

  /** Allowlisting an address also lifts any bounce it had: it must be deliverable. */
  async addToAllowlist(record: AllowlistRecord): Promise<Refused | undefined> {
    const answer = await this.addAllowlistEntries([record]);
    return isRefused(answer) ? answer : undefined;
  }

  /** addToAllowlist for up to 1000 entries at once (the CSV import); returns how many. */
  async addAllowlistEntries(records: AllowlistRecord[]): Promise<number | Refused> {
    const valid = accept(allowlistInput, records);
    if (isRefused(valid)) return valid;
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
  async listSuppressions(kind: SuppressionKind, query: SuppressionListQuery): Promise<SuppressionRow[] | Refused> {
    const table = accept(kindInput, kind);
    if (isRefused(table)) return table;
    const valid = accept(listInput, query);
    if (isRefused(valid)) return valid;
    const { sql, params, reversed } = listQuerySql(table, valid);
    const rows = this.ctx.storage.sql
      .exec(sql, ...params)
      .toArray()
      .map(KIND_TABLES[table].toRow);
    return reversed ? rows.reverse() : rows;
  }

  /** The record of one address (allowlist: address or domain), or null. */
  async getSuppression(kind: SuppressionKind, key: string): Promise<SuppressionRow | null | Refused> {
    const table = accept(kindInput, kind);
    if (isRefused(table)) return table;
    const value = accept(keyInput, key);
    if (isRefused(value)) return value;
    const row = this.ctx.storage.sql.exec(getOneSql(table), value).toArray()[0];
    return row ? KIND_TABLES[table].toRow(row) : null;
  }

  /** Removes one record; for unsubscribes, `tag` removes just that tag. False when nothing matched. */
  async deleteSuppression(kind: SuppressionKind, key: string, tag?: string): Promise<boolean | Refused> {
    const table = accept(kindInput, kind);
    if (isRefused(table)) return table;
    const value = accept(keyInput, key);
    if (isRefused(value)) return value;
    const oneTag = tag !== undefined && table === "unsubscribes" ? accept(tagInput, tag) : undefined;
    if (isRefused(oneTag)) return oneTag;
    const t = KIND_TABLES[table];
    const cursor =
      oneTag !== undefined
        ? this.ctx.storage.sql.exec("DELETE FROM unsubscribes WHERE address = ? AND tag = ?", value, oneTag)
        : this.ctx.storage.sql.exec(`DELETE FROM ${t.table} WHERE ${t.key} = ?`, value);
    return cursor.rowsWritten > 0;
  }

  /** Empties one list; returns how many rows went. */
  async clearSuppressions(kind: SuppressionKind): Promise<number | Refused> {
    const table = accept(kindInput, kind);
    if (isRefused(table)) return table;
    return this.ctx.storage.sql.exec(`DELETE FROM ${KIND_TABLES[table].table}`).rowsWritten;
  }

  /**
   * Checks every recipient of one message in one call: the send path asks once per message, not
   * once per recipient. Recipients come back in the order given.
   */
  async checkRecipients(recipients: string[], tags: string[]): Promise<RecipientCheck[] | Refused> {
    const input = accept(checkInput, { recipients, tags });
    if (isRefused(input)) return input;
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
    for (const row of sql.exec<{ address: string; tag: string }>(
      "SELECT address, tag FROM unsubscribes WHERE address IN (SELECT value FROM json_each(?))",
      wanted,
    )) {
      records.get(row.address)!.unsubscribedTags.push(row.tag);
    }
    return input.recipients.map((recipient, i) => ({ recipient, suppressed: suppressionFor(records.get(keys[i]!)!, input.tags) }));
  }

  #isAllowlisted(addressKey: string): boolean {
    const domain = addressKey.slice(addressKey.lastIndexOf("@") + 1);
    return (
      this.ctx.storage.sql.exec("SELECT 1 FROM allowlist WHERE value = ? OR (type = 'domain' AND value = ?) LIMIT 1", addressKey, domain).toArray().length > 0
    );
  }
}
