// Runs the Node example of the package README and checks that it prints what its comments say.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const README = new URL("../README.md", import.meta.url);
const MOD_NODE = new URL("../mod_node.ts", import.meta.url);

/** The first ```ts block under the "## Example (Node)" heading. */
function nodeExample(): string {
  const text = readFileSync(README, "utf8");
  const match = /## Example \(Node\)\n\n```ts\n([\s\S]*?)```/.exec(text);
  assert.ok(match !== null, "README has a Node example");
  return match[1]!;
}

test("the README's Node example runs and prints what its comments say", () => {
  const example = nodeExample().replaceAll('"@spo/clip/node"', JSON.stringify(MOD_NODE.href));
  const expected = example
    .split("\n")
    .filter((line) => line.startsWith("console.log("))
    .map((line) => line.slice(line.lastIndexOf(" // ") + 4));
  assert.ok(expected.length >= 5, "the example prints its results");
  // inside the package folder, so the example's other `@spo/*` imports resolve through the workspace
  const script = fileURLToPath(new URL(`../.readme_example_${process.pid}.mts`, import.meta.url));
  try {
    writeFileSync(script, example);
    const result = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp/spo-xdg-runtime" },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.trimEnd().split("\n"), expected);
  } finally {
    rmSync(script, { force: true });
  }
});
