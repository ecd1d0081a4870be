#!/usr/bin/env node
// `npm run schema:check` (CI): src/db/schema.ts and migrations/ describe the same D1 tables.
// drizzle-kit generates the SQL of the Drizzle schema into a temporary folder; that SQL and the
// migrations are applied each to an empty local D1 database, and the tables they build are
// compared (schema-compare.mjs). Exits 1 and names each difference when they disagree.
// Node-side tooling: not part of the Worker bundle.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { describeSchemas, diffSchemas } from "./schema-compare.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = mkdtempSync(path.join(tmpdir(), "tidings-drizzle-"));

try {
  const generate = spawnSync("npx", ["drizzle-kit", "generate", "--dialect", "sqlite", "--schema", "src/db/schema.ts", "--out", out, "--name", "schema"], {
    cwd: root,
    encoding: "utf8",
  });
  const generated = readdirSync(out).filter((file) => file.endsWith(".sql"));
  if (generate.status !== 0 || generated.length !== 1) {
    process.stderr.write(generate.stdout + generate.stderr);
    console.error("drizzle-kit generate did not write the schema's SQL");
    process.exit(1);
  }
  const drizzleStatements = readFileSync(path.join(out, generated[0]), "utf8")
    .split("--> statement-breakpoint")
    .map((statement) => statement.trim())
    .filter(Boolean);
  const migrationStatements = (await readD1Migrations(path.join(root, "migrations"))).flatMap((migration) => migration.queries);
  const [migrated, drizzled] = await describeSchemas(migrationStatements, drizzleStatements);
  const problems = diffSchemas(migrated, drizzled, "migrations/", "src/db/schema.ts");
  if (problems.length > 0) {
    console.error(`src/db/schema.ts and migrations/ disagree (${problems.length}):`);
    for (const problem of problems) console.error(`  ${problem}`);
    process.exit(1);
  }
  console.log(`src/db/schema.ts matches migrations/: ${migrated.size} tables (columns, types, defaults, keys, indexes, checks, foreign keys)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
