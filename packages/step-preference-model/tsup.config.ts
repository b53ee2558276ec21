import { defineConfig } from "tsup";

// Builds mod.ts to dist/ as an ES module with type declarations; @spo/* dependencies stay imports.
// Tests and examples run from source.
export default defineConfig({
  entry: ["mod.ts", "mod_node.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  external: [/^@spo\//],
});
