import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["mod.ts", "testing/mod.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  external: ["webgpu"],
});
