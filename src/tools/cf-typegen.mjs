#!/usr/bin/env node
// `npm run cf-typegen`: generates the Worker's Env type from wrangler.toml's production
// environment into worker-configuration.d.ts with `wrangler types` (src/env.ts adds what it cannot
// know). `--check` regenerates into a scratch file beside it and exits 1 when the committed file
// differs (CI): `wrangler types --check` (4.86) ignores --env, so it cannot be trusted here.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { offlineEnv } from "./wrangler-offline.mjs";

export const TYPES_FILE = "worker-configuration.d.ts";
export const TYPEGEN_ARGS = ["--env", "production", "--env-interface", "GeneratedEnv", "--strict-vars=false", "--include-runtime=false"];
// Beside the real file, so that the import paths it writes (./src/index) come out the same.
const SCRATCH_FILE = "worker-configuration.check.d.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const quietEnv = {
  ...offlineEnv(),
  // Wrangler warns on every read that [secrets] is experimental.
  WRANGLER_LOG: "error",
};

function generate(file) {
  const args = file === TYPES_FILE ? ["types", ...TYPEGEN_ARGS] : ["types", file, ...TYPEGEN_ARGS];
  const run = spawnSync(wrangler, args, { cwd: root, env: quietEnv, encoding: "utf8" });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    throw new Error(`wrangler types failed (exit ${run.status})`);
  }
}

/** True when worker-configuration.d.ts is what `npm run cf-typegen` would write now. */
export function typesAreFresh() {
  const scratch = path.join(root, SCRATCH_FILE);
  try {
    generate(SCRATCH_FILE);
    // The header names the file it was written to; the committed one was written without a name.
    const fresh = readFileSync(scratch, "utf8").replace(`wrangler types ${SCRATCH_FILE} `, "wrangler types ");
    let committed = "";
    try {
      committed = readFileSync(path.join(root, TYPES_FILE), "utf8");
    } catch {
      // Missing counts as stale.
    }
    return fresh === committed;
  } finally {
    rmSync(scratch, { force: true });
  }
}

// Run as a script (not imported by src/tools/deploy.mjs).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  if (process.argv.includes("--check")) {
    if (!typesAreFresh()) {
      console.error(`${TYPES_FILE} is stale: wrangler.toml changed since it was generated. Run \`npm run cf-typegen\` and commit it.`);
      process.exit(1);
    }
    console.log(`${TYPES_FILE} is fresh.`);
  } else {
    generate(TYPES_FILE);
    console.log(`Wrote ${TYPES_FILE} (wrangler types ${TYPEGEN_ARGS.join(" ")}).`);
  }
}
