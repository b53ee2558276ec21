// The only file that touches dawn.node. device.ts reaches it through the package's `#gpu` import,
// which resolves here only under the `node` condition: browser bundles get gpu_browser.ts instead,
// so they never see `webgpu` (Dawn) or its Node built-ins.
import { NoAdapterError } from "./errors.ts";

/**
 * dawn.node's GPU objects by option string. They must stay referenced for as long as any device
 * made from them lives: when V8 collects one, Dawn tears its instance down under live devices and
 * the process crashes at random in the driver's threads.
 */
const instances = new Map<string, GPU>();

interface DawnModule {
  create(options: string[]): unknown;
  globals: object;
}

/**
 * Returns a `GPU` object from dawn.node (npm `webgpu`, an optional peer dependency that Node users
 * install beside this package). `dawnOptions` are dawn.node's `create()` strings, e.g.
 * `enable-dawn-features=allow_unsafe_apis,disable_robustness`.
 *
 * @example
 * ```ts
 * import { nodeGpu } from "@spo/wgpu-tensor/node";
 * const gpu = await nodeGpu([]);
 * const adapter = await gpu.requestAdapter();
 * ```
 */
export async function nodeGpu(dawnOptions: readonly string[]): Promise<GPU> {
  const key = dawnOptions.join("\n");
  const cached = instances.get(key);
  if (cached) return cached;
  process.env.XDG_RUNTIME_DIR ??= "/tmp"; // keeps Mesa from warning when no session bus is set
  const dawn = await importDawn();
  // WebGPU's enum objects (GPUBufferUsage, GPUMapMode, …) are globals in browsers; Dawn exports them.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const gpu = dawn.create([...dawnOptions]) as GPU;
  instances.set(key, gpu);
  return gpu;
}

async function importDawn(): Promise<DawnModule> {
  try {
    return (await import("webgpu")) as DawnModule;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw error;
    throw new NoAdapterError(
      "Cannot create a WebGPU device in Node: the package `webgpu` (Dawn for Node) is not installed; " +
        "install it beside @spo/wgpu-tensor (`pnpm add webgpu@0.6.2` or `npm install webgpu@0.6.2`)",
      { cause: error },
    );
  }
}
