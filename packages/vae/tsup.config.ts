import { defineConfig } from "tsup";

// Builds the two entries (universal mod.ts, Node-only mod_node.ts) to dist/ as ES modules with type
// declarations; @spo/* dependencies stay imports. Tests and examples run from source.
export default defineConfig({
  entry: { mod: "mod.ts", mod_node: "mod_node.ts" },
  format: ["esm"],
  dts: true,
  target: "es2022",
  platform: "neutral",
  external: [/^@spo\//, /^node:/],
  removeNodeProtocol: false,
  clean: true,
  splitting: true,
});
