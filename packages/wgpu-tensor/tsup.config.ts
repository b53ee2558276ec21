import { defineConfig } from "tsup";
import { packageConfig } from "../../scripts/tsup_package.ts";

// Every entry of package.json's "exports" and "imports" (gpu_node and gpu_browser are the two targets
// of the `#gpu` import), built like every package (scripts/tsup_package.ts). The declarations use
// WebGPU's types (GPUDevice, GPUBuffer…), which @webgpu/types declares globally: every .d.ts
// references it, so a user's tsc finds them without skipLibCheck. The package has no @spo
// dependencies, and its own `#gpu` import resolves to sources through the source condition.
export default defineConfig(packageConfig({ dtsBanner: '/// <reference types="@webgpu/types" />', usesBuiltDependencies: false }));
