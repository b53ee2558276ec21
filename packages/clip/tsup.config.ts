import { defineConfig } from "tsup";

// Builds the two entries to dist/ as ES modules with type declarations. Tests and examples run
// from source; this is for publishing. dist/mod_node.js finds the vocabulary at ../assets/clip/,
// the same relative path as from tokenizer/clip_tokenizer_node.ts.
export default defineConfig({
  entry: { mod: "mod.ts", mod_node: "mod_node.ts" },
  format: ["esm"],
  dts: true,
  target: "es2022",
  platform: "neutral",
  external: [/^node:/],
  removeNodeProtocol: false,
  clean: true,
  sourcemap: true,
  splitting: true,
});
