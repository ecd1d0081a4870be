#!/usr/bin/env node
// `npm run size`: builds the deployable Worker as `wrangler deploy` would (offline, --dry-run),
// then prints its raw and gzipped size (gzip -9, what the upload limit is measured against) and
// what each package and src/ folder contributes. `--check` (CI) exits 1 above the budget or when
// a package the Worker must not carry is in it.
// Node-side tooling: not part of the Worker bundle.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { offlineEnv } from "./wrangler-offline.mjs";

/** The budget of the Worker bundle, gzipped (issue 14). Unit: KiB (1,024 bytes). */
const MAX_BUNDLE_GZIP_KIB = 200;
/** Packages the Worker must not carry: Drizzle's schema (src/db/schema.ts) is imported for types only. */
const EXCLUDED_PACKAGES = ["drizzle-orm"];
/** Contributions smaller than this are summed into one "other" line. Unit: bytes. */
const MIN_LISTED_BYTES = 1024;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const outdir = mkdtempSync(path.join(tmpdir(), "tidings-size-"));
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

try {
  const build = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir, "--metafile", path.join(outdir, "meta.json")], {
    cwd: root,
    encoding: "utf8",
    env: offlineEnv(),
  });
  if (build.status !== 0) {
    process.stderr.write(build.stdout + build.stderr);
    process.exit(build.status ?? 1);
  }
  const bundle = readFileSync(path.join(outdir, "index.js"));
  const gzipped = gzipSync(bundle, { level: 9 }).length;

  // Bytes in the output per source: node_modules by package, our code by src/ folder.
  const meta = JSON.parse(readFileSync(path.join(outdir, "meta.json"), "utf8"));
  const output = Object.entries(meta.outputs).find(([file]) => file.endsWith("index.js"))[1];
  const parts = new Map();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const src = /(?:^|\/)src\/([^/]+)\//.exec(input);
    const key = pkg ? pkg[1] : src ? `src/${src[1]}/` : "other";
    parts.set(key, (parts.get(key) ?? 0) + bytesInOutput);
  }
  let other = 0;
  console.log(`Worker bundle: ${kib(bundle.length)} raw, ${kib(gzipped)} gzipped (budget ${MAX_BUNDLE_GZIP_KIB} KiB gzipped)`);
  for (const [key, bytes] of [...parts].sort((a, b) => b[1] - a[1])) {
    if (bytes < MIN_LISTED_BYTES || key === "other") other += bytes;
    else console.log(`  ${kib(bytes).padStart(10)}  ${key}`);
  }
  console.log(`  ${kib(other).padStart(10)}  other (raw, before gzip)`);
  if (process.argv.includes("--check")) {
    const excluded = EXCLUDED_PACKAGES.filter((pkg) => parts.has(pkg));
    if (excluded.length > 0) console.error(`The Worker bundle carries ${excluded.join(", ")}: import it for types only.`);
    if (gzipped > MAX_BUNDLE_GZIP_KIB * 1024) console.error(`The Worker bundle is ${kib(gzipped)} gzipped, over the ${MAX_BUNDLE_GZIP_KIB} KiB budget.`);
    if (excluded.length > 0 || gzipped > MAX_BUNDLE_GZIP_KIB * 1024) process.exit(1);
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
