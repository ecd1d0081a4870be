// What a list of SQL statements builds, as SQLite itself reports it, and how two such schemas
// differ: the engine of `npm run schema:check` (schema-check.mjs), which holds migrations/ against
// the SQL drizzle-kit generates from src/db/schema.ts. Node-side tooling: not part of the Worker.
import { Miniflare } from "miniflare";

/**
 * The tables each list of statements builds, each list in its own empty local D1 database
 * (workerd's SQLite, the engine D1 runs). Rows the statements insert are not compared.
 */
export async function describeSchemas(...statementLists) {
  const names = statementLists.map((_, i) => `DB${i}`);
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 404 }); } };",
    d1Databases: names,
  });
  try {
    const described = [];
    for (const [i, statements] of statementLists.entries()) {
      const db = await mf.getD1Database(names[i]);
      for (const statement of statements) await db.prepare(statement).run();
      described.push(await describe(db));
    }
    return described;
  } finally {
    await mf.dispose();
  }
}

async function describe(db) {
  const all = async (query) => (await db.prepare(query).all()).results;
  // Virtual tables (the FTS5 indexes of migrations 0012) and the shadow tables SQLite keeps for
  // them are left out: Drizzle cannot declare them, and their layout is FTS5's, not ours.
  const notOrdinary = new Set((await all("PRAGMA table_list")).filter((t) => t.type === "virtual" || t.type === "shadow").map((t) => t.name));
  const tables = (
    await all(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY name",
    )
  ).filter((table) => !notOrdinary.has(table.name));
  const schema = new Map();
  for (const { name, sql } of tables) {
    const pk = new Set();
    const columns = (await all(`PRAGMA table_xinfo("${name}")`)).map((c) => {
      if (c.pk) pk.add(c.name);
      // A PRIMARY KEY column is NOT NULL here: SQLite lets a rowid table's non-INTEGER key hold
      // NULL only by a legacy quirk, Drizzle always writes NOT NULL, and no code stores a NULL key.
      const notNull = c.notnull || c.pk ? " NOT NULL" : "";
      return `${c.name} ${String(c.type).toUpperCase()}${notNull}${c.dflt_value === null ? "" : ` DEFAULT ${normalDefault(c.dflt_value)}`}${c.pk ? ` PK${c.pk}` : ""}`;
    });
    const indexes = [];
    for (const index of await all(`PRAGMA index_list("${name}")`)) {
      if (index.origin === "pk") continue; // the key itself is in the columns' PK marks
      const cols = (await all(`PRAGMA index_info("${index.name}")`)).map((c) => c.name).join(", ");
      // A UNIQUE column constraint is an automatic index in SQL, a named one in Drizzle's SQL.
      const named = index.origin === "c" && !/_unique$/.test(index.name);
      indexes.push(`${named ? `${index.name}: ` : ""}${index.unique ? "UNIQUE " : ""}(${cols})${index.partial ? " partial" : ""}`);
    }
    const foreignKeys = (await all(`PRAGMA foreign_key_list("${name}")`)).map(
      (f) => `${f.from} -> ${f.table}(${f.to}) ON DELETE ${f.on_delete} ON UPDATE ${f.on_update}`,
    );
    schema.set(name, {
      columns,
      indexes: indexes.sort(),
      foreignKeys: foreignKeys.sort(),
      checks: checksOf(sql).sort(),
      autoincrement: /\bAUTOINCREMENT\b/i.test(sql),
    });
  }
  return schema;
}

/** Drizzle writes a boolean column's default as true/false, SQL as 1/0: the same value in SQLite. */
const normalDefault = (value) => ({ false: "0", true: "1" })[String(value).toLowerCase()] ?? String(value);

/** The CHECK expressions of a CREATE TABLE, as comparable text (no quotes, case or spacing). */
export function checksOf(createTable) {
  const checks = [];
  const re = /\bCHECK\s*\(/gi;
  for (let match = re.exec(createTable); match; match = re.exec(createTable)) {
    let depth = 1;
    let i = re.lastIndex;
    for (; i < createTable.length && depth > 0; i++) {
      if (createTable[i] === "'") i = createTable.indexOf("'", i + 1);
      else if (createTable[i] === "(") depth++;
      else if (createTable[i] === ")") depth--;
    }
    const expression = createTable.slice(re.lastIndex, i - 1);
    checks.push(
      expression
        .replace(/[`"]/g, "")
        .replace(/\s+/g, " ")
        .replace(/\s*([(),=])\s*/g, "$1")
        .trim()
        .toLowerCase(),
    );
    re.lastIndex = i;
  }
  return checks;
}

/** Every difference between two described schemas, as lines naming the table and what differs. */
export function diffSchemas(left, right, leftName = "left", rightName = "right") {
  const problems = [];
  for (const name of new Set([...left.keys(), ...right.keys()])) {
    const a = left.get(name);
    const b = right.get(name);
    if (!a || !b) {
      problems.push(`table ${name}: only in ${a ? leftName : rightName}`);
      continue;
    }
    for (const part of ["columns", "indexes", "foreignKeys", "checks"]) {
      const onlyA = a[part].filter((x) => !b[part].includes(x));
      const onlyB = b[part].filter((x) => !a[part].includes(x));
      for (const x of onlyA) problems.push(`table ${name}, ${part}: only in ${leftName}: ${x}`);
      for (const x of onlyB) problems.push(`table ${name}, ${part}: only in ${rightName}: ${x}`);
      if (part === "columns" && onlyA.length === 0 && onlyB.length === 0 && a.columns.join() !== b.columns.join()) {
        problems.push(`table ${name}, columns: in another order (${leftName}: ${a.columns.map((c) => c.split(" ")[0]).join(", ")})`);
      }
    }
    if (a.autoincrement !== b.autoincrement) problems.push(`table ${name}: AUTOINCREMENT only in ${a.autoincrement ? leftName : rightName}`);
  }
  return problems;
}
