// The README prints the route × role table (issue 13): it must be exactly what the code enforces.
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { routeAccessMarkdown } from "../../src/api/route-access";

it("the README's route × role table is the one in src/api/route-access.ts", () => {
  const readme = readFileSync(path.resolve(import.meta.dirname, "../../README.md"), "utf8");
  expect(readme).toContain(`${routeAccessMarkdown()}\n`);
});
