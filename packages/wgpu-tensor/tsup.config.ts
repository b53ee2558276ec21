import { defineConfig } from "tsup";
import { packageConfig } from "../../scripts/tsup_package.ts";

// gpu_node and gpu_browser are the two targets of the package's `#gpu` import (package.json "imports").
// The declarations use WebGPU's types (GPUDevice, GPUBuffer…), which @webgpu/types declares globally:
// every .d.ts references it, so a user's tsc finds them without skipLibCheck.
export default defineConfig(
  packageConfig(
    {
      mod: "mod.ts",
      mod_node: "mod_node.ts",
      "testing/mod": "testing/mod.ts",
      gpu_node: "device/gpu_node.ts",
      gpu_browser: "device/gpu_browser.ts",
    },
    // No @spo dependencies; its own `#gpu` import resolves to sources through the `source` condition.
    { dtsBanner: '/// <reference types="@webgpu/types" />', usesBuiltDependencies: false },
  ),
);
