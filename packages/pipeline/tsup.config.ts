import { defineConfig } from "tsup";

// Builds mod.ts to dist/ as an ES module with type declarations. Tests and examples run from
// source; this is for publishing.
export default defineConfig({
  entry: { mod: "mod.ts", mod_node: "mod_node.ts" },
  format: ["esm"],
  dts: true,
  target: "es2022",
  platform: "neutral",
  clean: true,
  sourcemap: true,
});
