// The comparison behind `npm run schema:check` (src/tools/schema-compare.mjs): two ways of writing
// the same tables (the migrations' SQL, drizzle-kit's SQL) compare equal, and each kind of drift
// between src/db/schema.ts and migrations/ is named.
import { describe, expect, it } from "vitest";
import { checksOf, describeSchemas, diffSchemas } from "../../src/tools/schema-compare.mjs";

// As a migration writes it: column constraints, upper case, an ALTER TABLE, WITHOUT ROWID.
const MIGRATION = [
  `CREATE TABLE parents (
    name TEXT PRIMARY KEY NOT NULL,
    id TEXT NOT NULL UNIQUE,
    scheme TEXT NOT NULL DEFAULT 'http' CHECK (scheme IN ('http', 'https')),
    active INTEGER NOT NULL DEFAULT 0
  )`,
  "ALTER TABLE parents ADD COLUMN days INTEGER NOT NULL DEFAULT 30 CHECK (days BETWEEN 2 AND 30)",
  `CREATE TABLE children (
    parent TEXT NOT NULL REFERENCES parents (name) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    PRIMARY KEY (parent, at)
  ) WITHOUT ROWID`,
  "CREATE INDEX children_by_time ON children (at)",
  "CREATE TABLE letters (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)",
];

// As drizzle-kit writes the same tables: quoted lower-case names, named CHECK constraints, a
// named unique index, booleans' defaults as false, foreign keys as table constraints.
const DRIZZLE = [
  "CREATE TABLE `parents` (`name` text PRIMARY KEY NOT NULL, `id` text NOT NULL, `scheme` text DEFAULT 'http' NOT NULL, `active` integer DEFAULT false NOT NULL, `days` integer DEFAULT 30 NOT NULL, " +
    `CONSTRAINT "scheme" CHECK(scheme IN ('http','https')), CONSTRAINT "days" CHECK(days BETWEEN 2 AND 30))`,
  "CREATE UNIQUE INDEX `parents_id_unique` ON `parents` (`id`)",
  "CREATE TABLE `children` (`parent` text NOT NULL, `at` integer NOT NULL, PRIMARY KEY(`parent`, `at`), FOREIGN KEY (`parent`) REFERENCES `parents`(`name`) ON UPDATE no action ON DELETE cascade)",
  "CREATE INDEX `children_by_time` ON `children` (`at`)",
  "CREATE TABLE `letters` (`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL, `body` text NOT NULL)",
];

/** For each edit of the drizzle SQL, its differences from the migration above (one local D1 each, one runtime for all). */
async function drifts(...edits: Array<(statements: string[]) => string[]>): Promise<string[][]> {
  const [migrated, ...drizzled] = await describeSchemas(MIGRATION, ...edits.map((edit) => edit([...DRIZZLE])));
  return drizzled.map((schema) => diffSchemas(migrated, schema, "migrations/", "schema.ts"));
}

describe("schema:check's comparison", () => {
  it("finds no difference between the same tables written two ways", async () => {
    expect(await drifts((s) => s)).toEqual([[]]);
  });

  it("names a missing table, column, default, NOT NULL, index, check, foreign key and AUTOINCREMENT", async () => {
    expect(
      await drifts(
        (s) => s.filter((x) => !x.includes("`letters`")),
        (s) => [s[0].replace(", `days` integer DEFAULT 30 NOT NULL", "").replace(`, CONSTRAINT "days" CHECK(days BETWEEN 2 AND 30)`, ""), ...s.slice(1)],
        (s) => [s[0].replace("DEFAULT 30", "DEFAULT 31"), ...s.slice(1)],
        (s) => [s[0].replace("`active` integer DEFAULT false NOT NULL", "`active` integer DEFAULT false"), ...s.slice(1)],
        (s) => s.filter((x) => !x.includes("children_by_time")),
        (s) => s.filter((x) => !x.includes("parents_id_unique")),
        (s) => [s[0].replace("'https'", "'https','ftp'"), ...s.slice(1)],
        (s) => s.map((x) => x.replace("ON DELETE cascade", "ON DELETE no action")),
        (s) => s.map((x) => x.replace(" AUTOINCREMENT", "")),
      ),
    ).toEqual([
      ["table letters: only in migrations/"],
      ["table parents, columns: only in migrations/: days INTEGER NOT NULL DEFAULT 30", "table parents, checks: only in migrations/: days between 2 and 30"],
      [
        "table parents, columns: only in migrations/: days INTEGER NOT NULL DEFAULT 30",
        "table parents, columns: only in schema.ts: days INTEGER NOT NULL DEFAULT 31",
      ],
      ["table parents, columns: only in migrations/: active INTEGER NOT NULL DEFAULT 0", "table parents, columns: only in schema.ts: active INTEGER DEFAULT 0"],
      ["table children, indexes: only in migrations/: children_by_time: (at)"],
      ["table parents, indexes: only in migrations/: UNIQUE (id)"],
      ["table parents, checks: only in migrations/: scheme in('http','https')", "table parents, checks: only in schema.ts: scheme in('http','https','ftp')"],
      [
        "table children, foreignKeys: only in migrations/: parent -> parents(name) ON DELETE CASCADE ON UPDATE NO ACTION",
        "table children, foreignKeys: only in schema.ts: parent -> parents(name) ON DELETE NO ACTION ON UPDATE NO ACTION",
      ],
      ["table letters: AUTOINCREMENT only in migrations/"],
    ]);
  });

  it("leaves out virtual tables and their shadow tables, which Drizzle cannot declare", async () => {
    const [migrated] = await describeSchemas([
      ...MIGRATION,
      "CREATE VIRTUAL TABLE letters_text USING fts5(body, content='letters', content_rowid='id', tokenize='trigram', detail='none', columnsize=0)",
    ]);
    expect([...migrated.keys()].sort()).toEqual(["children", "letters", "parents"]);
    expect(await drifts((s) => s)).toEqual([[]]);
  });

  it("reads CHECK expressions whole, with parentheses and quoted parentheses inside", () => {
    expect(checksOf("CREATE TABLE t (a TEXT CHECK (a IN ('(', ')')), b INT, CHECK ((a = 'x') = (b IS NOT NULL)))")).toEqual([
      "a in('(',')')",
      "(a='x')=(b is not null)",
    ]);
  });
});
