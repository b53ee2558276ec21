// Every package under packages/ (the ones being written too) is published the same way: checked on
// package.json and the folder, in milliseconds. examples/consumer/consumer_test.ts then checks what
// the built and packed packages do for a user.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { entriesOf, SOURCE_CONDITION } from "./tsup_package.ts";

const packagesDir = fileURLToPath(new URL("../packages/", import.meta.url));
const folders = readdirSync(packagesDir)
  .filter((name) => existsSync(join(packagesDir, name, "package.json")))
  .sort();

describe("package shape", () => {
  for (const folder of folders) {
    const dir = join(packagesDir, folder);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    test(`${manifest.name}: an MIT ES module with a LICENSE, built by the shared config from its exports`, () => {
      assert.equal(manifest.type, "module");
      assert.equal(manifest.license, "MIT");
      assert.ok(existsSync(join(dir, "LICENSE")), "ships a LICENSE");
      assert.ok(manifest.files.includes("dist"), "publishes dist/");
      assert.match(readFileSync(join(dir, "tsup.config.ts"), "utf8"), /packageConfig\(/, "builds with scripts/tsup_package.ts");
      // Dawn (132 MB) is never a hard dependency: browser projects must not download it
      assert.equal(manifest.dependencies?.webgpu, undefined, "webgpu is not a dependency");
      for (const [name, source] of Object.entries(entriesOf(dir))) {
        assert.ok(existsSync(join(dir, source)), `the ${SOURCE_CONDITION} of dist/${name}.js, ${source}, exists`);
      }
    });

    test(`${manifest.name}: each export has types before import, both in dist/, and its source under ${SOURCE_CONDITION} only`, () => {
      for (const [subpath, target] of Object.entries(manifest.exports as Record<string, unknown>)) {
        if (typeof target === "string") continue; // plain files such as "./assets/*"
        const conditions = Object.keys(target as Record<string, string>);
        assert.deepEqual(
          conditions.filter((c) => c !== SOURCE_CONDITION),
          ["types", "import"],
          `"${subpath}" has the conditions ${conditions.join(", ")}`,
        );
        const { types, import: js } = target as Record<string, string>;
        assert.equal(types, js.replace(/\.js$/, ".d.ts"), `"${subpath}": types beside the module`);
        assert.ok(js.startsWith("./dist/"), `"${subpath}" points into dist/`);
      }
    });
  }
});
