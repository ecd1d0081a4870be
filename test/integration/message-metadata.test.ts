// Message metadata in the shards (db/messages.ts): a message's user variables and headers are kept
// deflated when long, so that a row with ~1 KB of user variables stays within SQLite's local payload
// of a WITHOUT ROWID table instead of overflowing into a 4 KB page of its own, and read back as given.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loadMessageMetadata, messageKey, saveMessageMetadata, saveSentMessageMetadata } from "../../src/db/messages";
import { directory } from "../../src/db/shards";
import type { Env } from "../../src/env";
import { uniqueDomain } from "../helpers";

const testEnv = env as unknown as Env;

/** About 1 KB of user variables, as production messages carry (unicode, nesting, numbers). */
const userVariables = {
  "customer-id": "c-0048213",
  "order-id": "o-99120433",
  locale: "de-DE",
  cart: Array.from({ length: 12 }, (_, i) => ({ sku: `SKU-${1000 + i * 37}`, qty: (i % 3) + 1, name: `Artikel Nr. ${i} – Größe ${40 + i}` })),
  note: "Grüße aus Köln ✉",
};
const headers = {
  "message-id": "long-id-000123@mail.shop.example",
  from: "Shop <news@shop.example>",
  to: "kunde@example.org",
  subject: "Ihre Bestellung ist unterwegs",
};

async function storedColumn(domain: string, table: "messages" | "message_facts", at: number) {
  const now = Date.now();
  const dir = await directory(testEnv, now);
  const db = dir.database(dir.nameAt(domain, at, now)!);
  return db
    .prepare(`SELECT typeof(user_variables) AS kind, length(user_variables) AS bytes, typeof(tags) AS tags FROM ${table} WHERE domain = ?1`)
    .bind(domain)
    .first<{ kind: string; bytes: number; tags: string }>();
}

describe("message metadata", () => {
  it("keeps a send's long user variables deflated and gives them back as they were", async () => {
    const domain = uniqueDomain("facts");
    const preparedAt = Date.now();
    const facts = { tags: ["order", "shipping"], userVariables, headers, preparedAt };
    await saveSentMessageMetadata(testEnv, domain, "long-id-000123@mail.shop.example", facts, [{ recipient: "Kunde@Example.org" }]);
    const stored = await storedColumn(domain, "message_facts", preparedAt);
    expect(stored!.kind).toBe("blob");
    expect(stored!.bytes).toBeLessThan(JSON.stringify(userVariables).length / 2);
    const key = { domain, messageId: "long-id-000123@mail.shop.example", recipient: "kunde@example.org", sentAt: preparedAt };
    const found = await loadMessageMetadata(testEnv, [key]);
    expect(found.get(messageKey(key))).toEqual(facts);
  });

  it("does the same for a prepared message's row, and keeps short JSON as text", async () => {
    const domain = uniqueDomain("prepared");
    const preparedAt = Date.now();
    const key = { domain, messageId: "p1@x", recipient: "reader@example.org", sentAt: preparedAt };
    await saveMessageMetadata(testEnv, key, { tags: ["t"], userVariables, headers, preparedAt });
    expect((await storedColumn(domain, "messages", preparedAt))!.kind).toBe("blob");
    expect((await loadMessageMetadata(testEnv, [key])).get(messageKey(key))).toEqual({ tags: ["t"], userVariables, headers, preparedAt });

    const small = { domain, messageId: "p2@x", recipient: "other@example.org", sentAt: preparedAt };
    await saveMessageMetadata(testEnv, small, { tags: [], userVariables: { a: 1 }, headers: { to: "other@example.org" }, preparedAt });
    expect((await loadMessageMetadata(testEnv, [small])).get(messageKey(small))).toEqual({
      tags: [],
      userVariables: { a: 1 },
      headers: { to: "other@example.org" },
      preparedAt,
    });
  });
});
