// Runs the schedulers example of the package README and checks that it prints what its comments say.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const README = new URL("../README.md", import.meta.url);
const PACKAGE = fileURLToPath(new URL("..", import.meta.url));

/** The first ```ts block under the "## Example (Node): schedulers" heading. */
function schedulersExample(): string {
  const text = readFileSync(README, "utf8");
  const match = /## Example \(Node\): schedulers\n\n```ts\n([\s\S]*?)```/.exec(text);
  assert.ok(match !== null, "README has a schedulers example");
  return match[1]!;
}

test("the README's schedulers example runs and prints what its comments say", () => {
  const example = schedulersExample();
  const expected = example
    .split("\n")
    .filter((line) => line.startsWith("console.log("))
    .map((line) => line.slice(line.indexOf("// ") + 3));
  assert.ok(expected.length >= 6, "the example prints its results");
  const directory = mkdtempSync(join(tmpdir(), "diffusion-unet-readme-"));
  try {
    const script = join(directory, "example.mts");
    const source = example
      .replaceAll('"@spo/diffusion-unet"', JSON.stringify(new URL("../mod.ts", import.meta.url).href))
      .replaceAll('"@spo/wgpu-tensor"', JSON.stringify(import.meta.resolve("@spo/wgpu-tensor")));
    writeFileSync(script, source);
    const result = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", script], {
      cwd: PACKAGE,
      encoding: "utf8",
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.trimEnd().split("\n"), expected);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
