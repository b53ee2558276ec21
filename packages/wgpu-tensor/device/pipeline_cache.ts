import { KernelCompileError } from "./errors.ts";
import { whileAlive } from "./keep_alive.ts";

/** A compiled kernel: its pipeline plus the key that names it everywhere (label, cache, errors). */
export interface CompiledKernel {
  key: string;
  pipeline: GPUComputePipeline;
  /**
   * The pipeline's bind group layout, fetched once: `getBindGroupLayout` makes a new wrapper on
   * every call in dawn.node, and bind groups made against it cost ~35 µs more per dispatch
   * (benchmarks/probes/bind_group_cost_node.ts).
   */
  layout: GPUBindGroupLayout;
}

/**
 * Compiles WGSL once per kernel key. The source is generated only on a cache miss. Compilation
 * errors are captured with an error scope; because WebGPU reports them asynchronously, they are
 * collected and thrown (as KernelCompileError, with the key and source) at the next `sync()`.
 */
export class PipelineCache {
  readonly #gpu: GPUDevice;
  readonly #kernels = new Map<string, CompiledKernel>();
  readonly #pendingChecks: Promise<KernelCompileError | null>[] = [];

  constructor(gpu: GPUDevice) {
    this.#gpu = gpu;
  }

  get size(): number {
    return this.#kernels.size;
  }

  get(key: string, source: () => string): CompiledKernel {
    const cached = this.#kernels.get(key);
    if (cached) return cached;
    const wgsl = source();
    if (typeof process !== "undefined" && process.env?.SPO_PRINT_KERNELS) {
      console.log(`// kernel ${key}\n${wgsl}`);
    }
    this.#gpu.pushErrorScope("validation");
    const module = this.#gpu.createShaderModule({ label: key, code: wgsl });
    const pipeline = this.#gpu.createComputePipeline({
      label: key,
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    // inside the scope: on an invalid pipeline this fails too, and belongs to the same compile error
    const layout = pipeline.getBindGroupLayout(0);
    const scope = this.#gpu.popErrorScope();
    this.#pendingChecks.push(this.#check(key, wgsl, module, scope));
    const kernel = { key, pipeline, layout };
    this.#kernels.set(key, kernel);
    return kernel;
  }

  /** Resolves once every compilation so far is checked; throws the first failure. */
  async verify(): Promise<void> {
    const checks = this.#pendingChecks.splice(0);
    const results = await whileAlive(Promise.all(checks));
    const failure = results.find((result) => result !== null);
    if (failure) {
      this.#kernels.delete(failure.key);
      throw failure;
    }
  }

  async #check(key: string, wgsl: string, module: GPUShaderModule, scope: Promise<GPUError | null>): Promise<KernelCompileError | null> {
    const error = await scope;
    if (!error) return null;
    const info = await module.getCompilationInfo();
    const lines = info.messages.map((m) => `${m.type} at line ${m.lineNum}:${m.linePos}: ${m.message}`);
    if (lines.length === 0) lines.push(error.message);
    return new KernelCompileError(key, lines, wgsl);
  }
}
