// Every oracle fixture folder shipped in the repository passes the parity runner with nothing
// skipped: the same check `npm run parity -- <folder>` makes, run the way a user runs it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const folders = readdirSync(join(root, "packages"))
  .map((name) => join("packages", name, "test", "fixtures", "oracle"))
  .filter((folder) => existsSync(join(root, folder)));

describe("oracle fixtures through npm run parity", () => {
  for (const folder of folders) {
    test(`${folder} passes every case`, () => {
      const result = spawnSync(process.execPath, ["--conditions=@spo/source", "--import", "tsx", "scripts/parity.ts", folder], {
        cwd: root,
        encoding: "utf8",
        timeout: 600_000,
        maxBuffer: 64 * 2 ** 20,
      });
      assert.ifError(result.error);
      const lines = result.stdout.trim().split("\n");
      const summary = lines.at(-1) ?? "";
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(summary, /^\d+ passed, 0 failed, 0 skipped$/, result.stdout);
      assert.ok(
        lines.slice(0, -1).every((line) => line.startsWith("PASS ")),
        result.stdout,
      );
    });
  }
});
