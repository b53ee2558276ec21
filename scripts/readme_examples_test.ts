// Runs every "## Example (Node)" block (also "## Example (Node): <topic>") of every package README
// and checks that each `console.log(...)` prints what its trailing `// ` comment says.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const packagesDir = join(root, "packages");

/** [heading, code] of each ```ts block right under a "## Example (Node)…" heading. */
function nodeExamples(readme: string): [string, string][] {
  return [...readme.matchAll(/^(## Example \(Node\)[^\n]*)\n\n```ts\n([\s\S]*?)```/gm)].map((match) => [match[1]!, match[2]!]);
}

describe("README examples", () => {
  for (const name of readdirSync(packagesDir).sort()) {
    const readmePath = join(packagesDir, name, "README.md");
    if (!existsSync(readmePath)) continue;
    for (const [heading, example] of nodeExamples(readFileSync(readmePath, "utf8"))) {
      test(`packages/${name}/README.md "${heading.slice(3)}" runs and prints what its comments say`, () => {
        const expected = example
          .split("\n")
          .filter((line) => line.trimStart().startsWith("console.log(") && line.includes("// "))
          .map((line) => line.slice(line.lastIndexOf("// ") + 3).trim());
        assert.ok(expected.length > 0, "the example prints its results with // comments");
        // inside the package folder, so `@spo/*` imports (the package's own included) resolve
        // through the workspace; files the example writes to the temp folder go to one of its own
        const script = join(packagesDir, name, `.readme_example_${process.pid}.mts`);
        const scratch = mkdtempSync(join(tmpdir(), `${name}-readme-`));
        writeFileSync(script, example);
        try {
          const result = spawnSync(process.execPath, ["--conditions=@spo/source", "--import", "tsx", script], {
            encoding: "utf8",
            timeout: 120_000,
            env: { ...process.env, TMPDIR: scratch },
          });
          assert.equal(result.status, 0, result.stderr);
          const printed = result.stdout
            .trimEnd()
            .split("\n")
            .map((line) => line.trim());
          assert.deepEqual(printed, expected);
        } finally {
          rmSync(script, { force: true });
          rmSync(scratch, { recursive: true, force: true });
        }
      });
    }
  }
});
