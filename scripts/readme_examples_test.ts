// Runs the "## Example (Node)" block of every package README (except those with their own
// test/readme_test.ts)
// and checks that each `console.log(...)` prints what its trailing `// ` comment says.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const packagesDir = join(root, "packages");

function nodeExample(readme: string): string | null {
  const match = /## Example \(Node\)\n\n```ts\n([\s\S]*?)```/.exec(readme);
  return match ? match[1] : null;
}

describe("README examples", () => {
  for (const name of readdirSync(packagesDir).sort()) {
    const readmePath = join(packagesDir, name, "README.md");
    const isSelfTested = existsSync(join(packagesDir, name, "test", "readme_test.ts"));
    if (isSelfTested || !existsSync(readmePath)) continue;
    const example = nodeExample(readFileSync(readmePath, "utf8"));
    if (!example) continue;
    test(`packages/${name}/README.md example runs and prints what its comments say`, () => {
      const expected = example.split("\n")
        .filter((line) => line.trimStart().startsWith("console.log(") && line.includes("// "))
        .map((line) => line.slice(line.lastIndexOf("// ") + 3).trim());
      assert.ok(expected.length > 0, "the example prints its results with // comments");
      // inside the package folder, so `@spo/*` imports resolve through the workspace
      const script = join(packagesDir, name, `.readme_example_${process.pid}.mts`);
      writeFileSync(script, example);
      try {
        const result = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", script], { encoding: "utf8", timeout: 120_000 });
        assert.equal(result.status, 0, result.stderr);
        const printed = result.stdout.trimEnd().split("\n").map((line) => line.trim());
        assert.deepEqual(printed, expected);
      } finally {
        rmSync(script, { force: true });
      }
    });
  }
});
