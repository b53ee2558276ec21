// Runs every test file of the repository with Node's test runner (through tsx, from source).
// Unit tests are `*_test.ts`; the heavy tier (`*_heavy_test.ts`, full-size model shapes) runs only
// when SPO_HEAVY=1. Extra arguments filter test files by substring: `node scripts/run_tests.mjs matmul`.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const isHeavy = process.env.SPO_HEAVY === "1";
const filters = process.argv.slice(2);

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

const files = [];
for (const top of ["packages", "examples", "benchmarks", "scripts"]) {
  for (const path of walk(join(root, top))) {
    if (!path.endsWith("_test.ts")) continue;
    if (path.endsWith("_heavy_test.ts") && !isHeavy) continue;
    const rel = relative(root, path);
    if (filters.length > 0 && !filters.some((f) => rel.includes(f))) continue;
    files.push(rel);
  }
}
files.sort();
if (files.length === 0) {
  console.error("No test files matched");
  process.exit(1);
}

process.env.XDG_RUNTIME_DIR ??= "/tmp/spo-xdg-runtime";
const result = spawnSync(
  process.execPath,
  ["--conditions=@spo/source", "--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
  { cwd: root, stdio: "inherit", env: process.env },
);
process.exit(result.status ?? 1);
