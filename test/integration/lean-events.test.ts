// Lean event rows (issue 12, migrations-events/0003, src/domain/lean-event.ts): an event shard stores
// each message's tags, user variables and headers once and the rest of an event compressed, and
// gives back exactly what it was given: through the Events API (the same JSON, key for key), the
// stats rollup's read (the same facts as from the control database's JSON text), the filters, and
// for rows a shard held before the migration.
import { applyD1Migrations, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DAY_KEYS_SINCE } from "../../src/db/event-day-keys";
import { insertEvents, listEvents, readEventsAfterRowid } from "../../src/db/events-store";
import { INSERT_EVENT_TAGS } from "../../src/db/lean-events";
import { directory, forgetDirectories } from "../../src/db/shards";
import type { EventQuery } from "../../src/domain/cursor";
import { dayOf } from "../../src/domain/event-shards";
import { messageKey, messageKeySql } from "../../src/domain/lean-event";
import { acceptedEvent, deliveredEvent, failedEvent, type MessageFacts } from "../../src/domain/send-events";
import { buildTrackingEvent, type EventRow, type MailgunEvent, toEventRow } from "../../src/domain/tracking-event";
import type { Env } from "../../src/env";
import { api, createDomain, legacyEventStatements, uniqueDomain } from "../helpers";

const testEnv = env as unknown as Env;
const NOW = Date.now();

/** One message's events as the pipeline builds them, with what tends to break a serializer. */
function messageEvents(domain: string, n: number, facts: Partial<MessageFacts> = {}): EventRow[] {
  const recipient = `Ünïcødé.${n}@Example.ORG`;
  const message: MessageFacts = {
    domain,
    messageId: `${n}.lean@${domain}`,
    headers: { to: recipient, from: `Shöp ${n} <news@${domain}>`, subject: `Ça va? 🎉 ${n} — 50% off "quoted" \\ back\\slash` },
    tags: ["Newsletter", `campaign-${n}`, "émoji-🎉"],
    userVariables: {
      "customer-id": `cus_${n}`,
      "2": "an integer-like key",
      nested: { cart: [{ sku: "SKU-1", qty: 2, price: 19.99 }], empty: {}, none: null, yes: true, zero: 0, big: 12345678901234 },
      text: "line\nbreak\ttab \u0001 control \u2028 separator",
    },
    size: 20_000 + n,
    ...facts,
  };
  // An hour ago, but never before today began (UTC): the tests look for a message's events in the
  // shard of NOW's day, and just after midnight an hour ago is yesterday's.
  const sentMs = Math.max(NOW - 3_600_000, Math.floor(NOW / 86_400_000) * 86_400_000 + 1000) + n * 1000;
  const status = { code: 250, message: "OK", attemptNo: 1, mxHost: "smtp.relay.example", tls: true, sessionSeconds: 0.4 };
  const rows = [
    acceptedEvent(message, recipient, { recipients: [recipient], method: "http", sender: `bounce@${domain}`, attachments: [] }, { ms: sentMs }),
    n % 3 === 0
      ? failedEvent(
          message,
          recipient,
          { severity: "permanent", reason: "bounce", status: { ...status, code: 550, message: "5.1.1 no such user" } },
          { ms: sentMs + 1500 },
        )
      : deliveredEvent(message, recipient, status, { ms: sentMs + 1500 }),
    buildTrackingEvent(
      {
        type: "hit",
        v: 1,
        id: `lean-open-${n}`,
        event: n % 2 ? "clicked" : "opened",
        url: `https://shop.example.com/p/${n}?utm_source=newsletter&ü=1`,
        ts: (sentMs + 60_000) * 1000 + 123,
        domain,
        messageId: message.messageId,
        recipient,
        issuedAt: Math.floor(sentMs / 1000),
        method: "GET",
        ip: "198.51.100.7",
        userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        cf: { country: "NL", city: "Amsterdam", asn: 64500 },
      },
      { tags: message.tags, userVariables: message.userVariables, headers: message.headers, preparedAt: sentMs },
    ),
  ];
  return rows.map((body) => toEventRow(domain, body));
}

async function pageOf(domain: string): Promise<string> {
  const response = await api(`/v3/${domain}/events?ascending=yes&limit=300`);
  expect(response.status).toBe(200);
  return response.text();
}

describe("lean event rows", () => {
  it("gives back every event's JSON exactly as it was given, through the Events API", async () => {
    const domain = uniqueDomain("lean");
    await createDomain(domain);
    const rows = [
      ...messageEvents(domain, 1),
      ...messageEvents(domain, 2),
      ...messageEvents(domain, 3, { tags: [], userVariables: {} }),
      // A body whose fields differ from its columns, and one without tags or headers.
      { ...messageEvents(domain, 4)[0]!, recipient: "other@example.org", subject: "a column of its own" },
      {
        ...messageEvents(domain, 5)[1]!,
        body: { id: "bare", event: "delivered", timestamp: 1.5, recipient: 0, message: { size: 3 } } as unknown as MailgunEvent,
      },
    ];
    rows.at(-1)!.id = "bare";
    rows.at(-1)!.ts = Math.round((NOW - 1000) * 1000);
    expect(await insertEvents(testEnv, rows, NOW)).toBe(rows.length);
    const expected = [...rows].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1)).map((row) => row.body);
    const text = await pageOf(domain);
    const items = (JSON.parse(text) as { items: unknown[] }).items;
    expect(items).toEqual(expected);
    // The same text, key order included.
    expect(text.startsWith(`{"items":[${expected.map((body) => JSON.stringify(body)).join(",")}]`)).toBe(true);
    // Inserting the batch again (a queue redelivery) changes nothing.
    await insertEvents(testEnv, rows, NOW);
    expect(await pageOf(domain)).toBe(text);
  });

  it("stores a message's part once per shard, and the filters still find its events", async () => {
    // "12" in the name on purpose: uniqueDomain's base-36 clock put it there by chance in a CI run,
    // and the unquoted filter "Shöp 12" (Shöp AND 12) then matched every message's From.
    const domain = uniqueDomain("leanf12x");
    await createDomain(domain);
    const rows = [...messageEvents(domain, 11), ...messageEvents(domain, 12), ...messageEvents(domain, 13)];
    await insertEvents(testEnv, rows, NOW);
    const name = (await directory(testEnv, NOW)).nameFor(domain, dayOf(NOW * 1000));
    const db = testEnv[name as keyof Env] as unknown as D1Database;
    const parts = await db
      .prepare("SELECT count(*) AS n FROM event_parts WHERE domain_id = (SELECT id FROM event_domains WHERE name = ?1)")
      .bind(domain)
      .first<{ n: number }>();
    // Each message's three events (accepted, delivered or failed, opened or clicked) share one part.
    expect(parts!.n).toBe(3);
    const query = (filters: Record<string, string[]>): EventQuery => ({ domain, lo: null, hi: null, ascending: true, limit: 300, filters });
    const ids = async (filters: Record<string, string[]>) => (await listEvents(testEnv, query(filters), "first", undefined, NOW)).map((e) => e.id);
    const of = (n: number) => rows.slice((n - 11) * 3, (n - 10) * 3).map((row) => row.id);
    expect((await ids({ "message-id": [`12.lean@${domain}`] })).sort()).toEqual(of(12).sort());
    expect((await ids({ tags: ["campaign-13"] })).sort()).toEqual(of(13).sort());
    expect(await ids({ tags: ["NEWSLETTER"], event: ["failed"] })).toEqual(rows.filter((row) => row.event === "failed").map((row) => row.id));
    // Quoted: a space between terms is an AND (Mailgun's syntax), and a bare "12" is also in the
    // domain's name, which every From holds.
    expect((await ids({ subject: ['"🎉 11"'] })).sort()).toEqual(of(11).sort());
    expect((await ids({ from: ['"Shöp 12"'] })).sort()).toEqual(of(12).sort());
    expect((await ids({ to: ["Ünïcødé.13"] })).sort()).toEqual(of(13).sort());
    expect((await ids({ recipient: ["ünïcødé.11@example.org"] })).sort()).toEqual(of(11).sort());
    expect(await ids({ subject: ["no such subject"] })).toEqual([]);
  });

  it("reads the stats rollup's facts out of a lean row exactly as out of the control database's JSON text", async () => {
    const domain = uniqueDomain("leanr");
    await createDomain(domain);
    const rows = [...messageEvents(domain, 21), ...messageEvents(domain, 22), ...messageEvents(domain, 23)];
    const name = (await directory(testEnv, NOW)).nameFor(domain, dayOf(NOW * 1000));
    const shard = testEnv[name as keyof Env] as unknown as D1Database;
    const shardMark = (await shard.prepare("SELECT coalesce(max(rowid), 0) AS w FROM events").first<{ w: number }>())!.w;
    await insertEvents(testEnv, rows, NOW);
    // The same rows in the control database's layout, as the store wrote them there before the shards.
    const control = testEnv.DB;
    const controlMark = (await control.prepare("SELECT coalesce(max(rowid), 0) AS w FROM events").first<{ w: number }>())!.w;
    await control.batch(
      rows.map((row) =>
        control
          .prepare("INSERT INTO events (id, domain, ts, event, severity, recipient, message_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
          .bind(row.id, row.domain, row.ts, row.event, row.severity, row.recipient, row.messageId, JSON.stringify(row.body)),
      ),
    );
    const strip = (facts: Array<Record<string, unknown>>) =>
      facts
        .filter((f) => f.domain === domain)
        .map(({ rowid: _, ...rest }) => rest)
        .sort((a, b) => (a.ts as number) - (b.ts as number));
    const lean = strip((await readEventsAfterRowid(shard, shardMark, 1000)) as unknown as Array<Record<string, unknown>>);
    const legacy = strip((await readEventsAfterRowid(control, controlMark, 1000)) as unknown as Array<Record<string, unknown>>);
    expect(lean).toHaveLength(rows.length);
    expect(lean).toEqual(legacy);
    await control.prepare("DELETE FROM events WHERE domain = ?1").bind(domain).run();
  });

  it("finds a part's Message-ID by the same key in JS and in SQL (the migration's copy computes it in SQL)", async () => {
    const ids = ["20261129.1a2b3c4d@mg.example.com", "short@x", "no-at-sign-at-all", "ünï🎉cødé.ключ@例え.jp", "@lead", "a@b@c", "", "x".repeat(300)];
    const sql = messageKeySql("value");
    const { results } = await env.DB.prepare(`SELECT ${sql} AS k FROM json_each(?1) ORDER BY key`).bind(JSON.stringify(ids)).all<{ k: number }>();
    expect(results.map((r) => r.k)).toEqual(ids.map(messageKey));
    expect(new Set(ids.map(messageKey)).size).toBe(ids.length);
    expect(env.TEST_EVENT_MIGRATIONS.find((m) => m.name.startsWith("0003"))!.queries.some((q: string) => q.includes(messageKeySql("e.message_id")))).toBe(true);
  });

  it("keeps serving the rows a shard held before the migration, and never hands out their rowids again", async () => {
    const db = env.LEAN_UPGRADE_TEST_DB;
    await applyD1Migrations(
      db,
      env.TEST_EVENT_MIGRATIONS.filter((m) => m.name < "0003"),
    );
    const domain = uniqueDomain("leanu");
    await createDomain(domain);
    const old = [...messageEvents(domain, 31), ...messageEvents(domain, 32)];
    // The store's writes before the migration (migrations-events/0001: every column in the row).
    await db.batch(old.flatMap((row) => legacyEventStatements(db, row)));
    // The newest row was deleted (an emptied slot's): its rowid stays used.
    const top = (await db.prepare("SELECT max(seq) AS s FROM events").first<{ s: number }>())!.s;
    await db.prepare("DELETE FROM events WHERE seq = ?1").bind(top).run();
    const kept = old.slice(0, -1);
    await applyD1Migrations(db, env.TEST_EVENT_MIGRATIONS);

    // The Worker reads this database as the shard of the domain's day.
    const name = (await directory(testEnv, NOW)).nameFor(domain, dayOf(NOW * 1000));
    const migratedEnv = { ...testEnv, [name]: db } as Env;
    forgetDirectories(migratedEnv);
    // The old rows were stored by a Worker from before the day keys: their day is not covered by them (migrations/0013).
    const setKeysSince = (day: number) => env.DB.prepare("UPDATE account_settings SET value = ?2 WHERE name = ?1").bind(DAY_KEYS_SINCE, String(day)).run();
    await setKeysSince(dayOf(NOW * 1000) + 1);
    try {
      const fresh = messageEvents(domain, 33);
      await insertEvents(migratedEnv, fresh, NOW);
      const seqs = (
        await db
          .prepare("SELECT seq FROM events WHERE id IN (SELECT value FROM json_each(?1))")
          .bind(JSON.stringify(fresh.map((r) => r.id)))
          .all<{ seq: number }>()
      ).results;
      expect(Math.min(...seqs.map((r) => r.seq))).toBeGreaterThan(top);
      const query = (filters: Record<string, string[]>): EventQuery => ({ domain, lo: null, hi: null, ascending: true, limit: 300, filters });
      const all = await listEvents(migratedEnv, query({}), "first", undefined, NOW);
      const expected = [...kept, ...fresh].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
      expect(all.map((e) => JSON.parse(e.body))).toEqual(expected.map((row) => row.body));
      expect(all.map((e) => e.body)).toEqual(expected.map((row) => JSON.stringify(row.body)));
      const ids = async (filters: Record<string, string[]>) => (await listEvents(migratedEnv, query(filters), "first", undefined, NOW)).map((e) => e.id).sort();
      const of = (n: number) =>
        expected
          .filter((row) => row.messageId === `${n}.lean@${domain}`)
          .map((row) => row.id)
          .sort();
      expect(await ids({ "message-id": [`31.lean@${domain}`] })).toEqual(of(31));
      expect(await ids({ tags: ["campaign-32"] })).toEqual(of(32));
      expect(await ids({ subject: ['"🎉 31"'] })).toEqual(of(31));
      expect(await ids({ subject: ['"🎉 33"'] })).toEqual(of(33));
      expect(await ids({ recipient: ["ünïcødé.32@example.org"] })).toEqual(of(32));
      // The rollup reads old and new rows alike.
      const facts = await readEventsAfterRowid(db, 0, 1000);
      expect(facts.map((f) => f.rowid)).toEqual([...facts.map((f) => f.rowid)].sort((a, b) => a - b));
      expect(facts.map((f) => f.messageId).sort()).toEqual(expected.map((row) => row.messageId).sort());
      expect(facts.find((f) => f.event === "failed")?.reason).toBe("bounce");
    } finally {
      forgetDirectories(migratedEnv);
      await setKeysSince(0);
    }
  });

  it("looks each of an event's tags up by its (domain, name) key, not by walking the domain's tag names", async () => {
    const db = (await directory(testEnv, NOW)).database((await directory(testEnv, NOW)).nameFor("plan.example", dayOf(NOW * 1000)));
    const json = JSON.stringify([{ domain: "plan.example", ts: 1, id: "x", tags: ["a", "b"] }]);
    const { results } = await db
      .prepare(`EXPLAIN QUERY PLAN ${INSERT_EVENT_TAGS.replace(/^INSERT OR IGNORE INTO event_tags \(tag, ts, seq\)\s*/, "")}`)
      .bind(json)
      .all<{ detail: string }>();
    const steps = results.map((row) => row.detail);
    // The tag names are searched by both columns of their unique key, after the event's tags are read.
    const names = steps.findIndex((step) => /SEARCH n USING .*\(domain_id=\? AND name=\?\)/.test(step));
    expect(names).toBeGreaterThan(steps.findIndex((step) => step.startsWith("SCAN t")));
  });
});
