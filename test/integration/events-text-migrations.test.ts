// The trigram indexes of the "contains" filters as each migration set builds them: an event shard
// (migrations-events/) with rows in the layout before 0003, which moves them and indexes its parts,
// and the control database (migrations/) upgraded with rows in it, which 0012 must index. The same
// compiled filters must give LIKE's rows in both, and the triggers must keep the indexes in step
// with inserts and deletes (FTS5's integrity check against the content table). Two empty databases
// of their own (TEXT_SHARD_TEST_DB, TEXT_CONTROL_TEST_DB), migrated step by step here, inside
// workerd: from Node, through Miniflare's synchronous proxy, its hundreds of calls failed a CI run
// on the proxy's own assertion (fetch-sync's message id), not on anything of ours.
import { type D1Migration, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { compileEventQuery, type EventsLayout } from "../../src/db/event-filters";

const TEXT_TABLES = ["events_text_subject", "events_text_from", "events_text_to"];
const SUBJECTS = ["Autumn sale: 30% off", "Winter boots_now", null, "École d'été", "Hello Ross"];

type Db = D1Database;

async function apply(db: Db, migrations: D1Migration[], which: (name: string) => boolean) {
  for (const migration of migrations) {
    if (!which(migration.name)) continue;
    for (const query of migration.queries) await db.prepare(query).run();
  }
}

async function insert(db: Db, from: number, to: number) {
  for (let i = from; i < to; i++) {
    await db
      .prepare(
        "INSERT INTO events (id, domain, ts, event, recipient, from_header, to_header, subject, body) VALUES (?, 'a.example', ?, 'delivered', 'r@x.example', ?, ?, ?, '{}')",
      )
      .bind(`e${i}`, 1_700_000_000_000_000 + i, i % 3 ? `Shop ${i} <news@shop.example>` : null, `user${i}@x.example`, SUBJECTS[i % SUBJECTS.length])
      .run();
  }
}

/** A shard's rows in its lean layout (migrations-events/0003): a part per event, holding the text columns (subject and from by id). */
async function insertLean(db: Db, from: number, to: number) {
  await db.prepare("INSERT OR IGNORE INTO event_domains (name) VALUES ('a.example')").run();
  for (let i = from; i < to; i++) {
    const from = i % 3 ? `Shop ${i} <news@shop.example>` : null;
    const subject = SUBJECTS[i % SUBJECTS.length] ?? null;
    await db.batch([
      db.prepare("INSERT OR IGNORE INTO event_texts (text) SELECT value FROM json_each(?) WHERE value IS NOT NULL").bind(JSON.stringify([from, subject])),
      db
        .prepare(
          "INSERT INTO event_parts (hash, domain_id, from_id, to_header, subject_id) VALUES (randomblob(16), 1, (SELECT id FROM event_texts WHERE text = ?), ?, (SELECT id FROM event_texts WHERE text = ?))",
        )
        .bind(from, `user${i}@x.example`, subject),
      db
        .prepare(
          "INSERT INTO events (domain_id, ts, id, event, recipient, part, body) VALUES (1, ?, ?, 'delivered', 'r@x.example', last_insert_rowid(), x'00')",
        )
        .bind(1_700_000_000_000_000 + i, `e${i}`),
    ]);
  }
}

/** The ids the compiled filters select, and the ids LIKE alone selects. */
async function bothWays(db: Db, layout: EventsLayout, field: "subject" | "from" | "to", term: string): Promise<[string[], string[]]> {
  const column = { subject: "subject", from: "from_header", to: "to_header" }[field];
  const leanColumn = {
    subject: "(SELECT text FROM event_texts WHERE id = p.subject_id)",
    from: "(SELECT text FROM event_texts WHERE id = p.from_id)",
    to: "p.to_header",
  }[field];
  const { sql, params } = compileEventQuery({ [field]: [term] }, { layout });
  expect(sql).toContain("MATCH");
  const from = layout === "lean" ? "events AS e JOIN event_parts AS p ON p.ref = e.part WHERE e.domain_id = 1" : "events AS e WHERE e.domain = 'a.example'";
  const ids = async (where: string, values: unknown[]) =>
    (
      await db
        .prepare(`SELECT id FROM ${from} AND ${where} ORDER BY e.ts`)
        .bind(...values)
        .all<{ id: string }>()
    ).results.map((r) => r.id);
  const escaped = term.replace(/"/g, "").replace(/[\\%_]/g, "\\$&");
  const like = layout === "lean" ? leanColumn : `e.${column}`;
  return [await ids(sql, params), await ids(`coalesce(${like}, '') LIKE ? ESCAPE '\\'`, [`%${escaped}%`])];
}

async function expectInStep(db: Db) {
  // rank 1: compares each index with the rows of `events` (throws on any difference).
  for (const table of TEXT_TABLES) await db.prepare(`INSERT INTO ${table} (${table}, rank) VALUES ('integrity-check', 1)`).run();
}

async function expectSameAsLike(db: Db, layout: EventsLayout) {
  // [field, term, whether LIKE finds it]: LIKE folds ASCII only, so "école" misses "École" (and "ÉCOLE" finds it), which
  // the index (folding all case) returns and the LIKE beside it then drops.
  for (const [field, term, found] of [
    ["subject", "autumn", true],
    ["subject", '"30% off"', true],
    ["subject", '"boots_now"', true],
    ["subject", "École", true],
    ["subject", "école", false],
    ["subject", "ÉCOLE", true],
    ["subject", "éCOLE", false],
    ["from", '"shop 1"', true],
    ["to", "user1", true],
  ] as const) {
    const [indexed, like] = await bothWays(db, layout, field, term);
    expect(indexed, `${field}=${term}`).toEqual(like);
    expect(like.length > 0, `${field}=${term} found`).toBe(found);
  }
}

describe("events_text_* trigram indexes", () => {
  it("an event shard (migrations-events/) indexes the parts of the rows it held before 0003, every part inserted, and forgets every delete", async () => {
    const db = env.TEXT_SHARD_TEST_DB;
    await apply(db, env.TEST_EVENT_MIGRATIONS, (name) => name < "0003");
    await insert(db, 0, 20);
    await db.prepare("DELETE FROM events WHERE id = 'e0'").run();
    await apply(db, env.TEST_EVENT_MIGRATIONS, (name) => name >= "0003");
    await insertLean(db, 20, 40);
    const drop = "(SELECT part FROM events WHERE id IN ('e5', 'e13', 'e25'))";
    // The parts first: the events name them.
    await db.batch([db.prepare(`DELETE FROM event_parts WHERE ref IN ${drop}`), db.prepare(`DELETE FROM events WHERE id IN ('e5', 'e13', 'e25')`)]);
    // Parts are never updated, but an UPDATE must not leave an index stale either.
    await db.prepare("INSERT INTO event_texts (text) VALUES ('Spring gala')").run();
    await db
      .prepare(
        "UPDATE event_parts SET subject_id = (SELECT id FROM event_texts WHERE text = 'Spring gala'), from_id = NULL, to_header = 'gala@x.example' WHERE ref = (SELECT part FROM events WHERE id = 'e10')",
      )
      .run();
    const count = async (table: string, match: string) =>
      (await db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${table} MATCH ?`).bind(match).first<{ n: number }>())!.n;
    expect(await count("events_text_subject", '"spr" AND "gal"')).toBe(1);
    expect(await count("events_text_to", '"gal" AND "ala"')).toBe(1);
    // e15, e20, e30, e35: e0, e5 and e25 are gone, e10 is a Spring gala now.
    expect(await count("events_text_subject", '"aut" AND "umn"')).toBe(4);
    await expectInStep(db);
    await expectSameAsLike(db, "lean");
  });

  it("the control database (migrations/) indexes the rows it held before 0012, then keeps in step", async () => {
    const db = env.TEXT_CONTROL_TEST_DB;
    await apply(db, env.TEST_MIGRATIONS, (name) => name < "0012");
    await insert(db, 0, 30);
    await apply(db, env.TEST_MIGRATIONS, (name) => name >= "0012");
    const indexed = await db.prepare(`SELECT count(*) AS n FROM events_text_subject WHERE events_text_subject MATCH '"aut" AND "umn"'`).first<{ n: number }>();
    expect(indexed!.n).toBe(6); // e0, e5, ... e25: rows written before the index existed
    await insert(db, 30, 45);
    await db.prepare("DELETE FROM events WHERE id IN ('e1', 'e30')").run();
    await expectInStep(db);
    await expectSameAsLike(db, "legacy");
  });
});
