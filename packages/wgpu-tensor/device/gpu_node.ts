// The only file that touches dawn.node. It is imported lazily, so browser bundles never load it.

/**
 * dawn.node's GPU objects by option string. They must stay referenced for as long as any device
 * made from them lives: when V8 collects one, Dawn tears its instance down under live devices and
 * the process crashes at random in the driver's threads.
 */
const instances = new Map<string, GPU>();

/**
 * Returns a `GPU` object from dawn.node (npm `webgpu`). `dawnOptions` are dawn.node's `create()`
 * strings, e.g. `enable-dawn-features=allow_unsafe_apis,disable_robustness`.
 */
export async function nodeGpu(dawnOptions: readonly string[]): Promise<GPU> {
  const key = dawnOptions.join("\n");
  const cached = instances.get(key);
  if (cached) return cached;
  process.env.XDG_RUNTIME_DIR ??= "/tmp"; // keeps Mesa from warning when no session bus is set
  const dawn = await import("webgpu");
  // WebGPU's enum objects (GPUBufferUsage, GPUMapMode, …) are globals in browsers; Dawn exports them.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const gpu = dawn.create([...dawnOptions]) as GPU;
  instances.set(key, gpu);
  return gpu;
}
