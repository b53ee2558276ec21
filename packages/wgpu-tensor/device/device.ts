import { BufferPool, type MemoryStats } from "../memory/buffer_pool.ts";
import { CommandQueue } from "./command_queue.ts";
import { DeviceDestroyedError, DeviceLostError, GpuError, NoAdapterError } from "./errors.ts";
import { PipelineCache } from "./pipeline_cache.ts";

export interface DeviceOptions {
  /** Adapter preference passed to `requestAdapter`. Default: "high-performance". */
  powerPreference?: GPUPowerPreference;
  /**
   * Node only: turn off Dawn's bounds-check robustness (`allow_unsafe_apis,disable_robustness`).
   * Faster on CPU adapters; only safe because every kernel here is tested in bounds. Default: false.
   */
  disableRobustness?: boolean;
  /** Node only: extra dawn.node `create()` options, e.g. `adapter=llvmpipe`. */
  dawnOptions?: string[];
  /** Submit the open command encoder after this many dispatches. Default: 64. */
  submitEvery?: number;
  /** Free pooled memory above this many bytes instead of keeping it. Default: 1 GiB. */
  poolCapBytes?: number;
  /** Use this adapter instead of requesting one (advanced). */
  adapter?: GPUAdapter;
  /**
   * Bind at most this many bytes of a buffer at once (default and upper bound: the adapter's
   * `maxStorageBufferBindingSize`): to test the windowed paths with small tensors, or to behave
   * like an adapter with a lower limit.
   */
  maxBindingBytes?: number;
  /** Leave `shader-f16` off even where the adapter has it: to behave like an adapter without it (tests, comparisons). */
  withoutF16?: boolean;
}

/** Adapter facts a kernel may choose by. */
export interface AdapterFacts {
  vendor: string;
  architecture: string;
  description: string;
  /** True for software adapters (llvmpipe/lavapipe, SwiftShader, WARP). */
  isCpu: boolean;
}

const OPTIONAL_FEATURES: GPUFeatureName[] = ["shader-f16", "subgroups", "timestamp-query"];
const LIMITS_TO_RAISE = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
] as const;

let defaultDevice: Device | null = null;

/**
 * A WebGPU device with everything tensors need: a command queue that batches dispatches, a buffer
 * pool, a pipeline cache and error reporting. Works in browsers (`navigator.gpu`) and in Node
 * (dawn.node, loaded only there).
 *
 * @example
 * ```ts
 * const device = await Device.create();
 * console.log(device.adapter.description); // e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
 * device.destroy();
 * ```
 */
export class Device {
  readonly gpu: GPUDevice;
  readonly adapter: AdapterFacts;
  readonly limits: GPUSupportedLimits;
  /** Bytes one storage binding may hold here: `limits.maxStorageBufferBindingSize` or less (`DeviceOptions.maxBindingBytes`). */
  readonly maxBindingBytes: number;
  readonly features: ReadonlySet<string>;
  readonly pool: BufferPool;
  readonly queue: CommandQueue;
  readonly pipelines: PipelineCache;
  /** Held so the adapter (and in Node, Dawn's instance behind it) lives as long as the device. */
  readonly #adapter: GPUAdapter;
  #lostError: DeviceLostError | null = null;
  #gpuErrors: GpuError[] = [];
  #isDestroyed = false;

  private constructor(gpu: GPUDevice, gpuAdapter: GPUAdapter, adapter: AdapterFacts, options: DeviceOptions) {
    this.gpu = gpu;
    this.#adapter = gpuAdapter;
    this.adapter = adapter;
    this.limits = gpu.limits;
    this.maxBindingBytes = Math.min(gpu.limits.maxStorageBufferBindingSize, options.maxBindingBytes ?? Infinity);
    this.features = new Set(gpu.features);
    this.pool = new BufferPool(gpu, { capBytes: options.poolCapBytes });
    this.queue = new CommandQueue(gpu, this.pool, options.submitEvery ?? 64);
    this.pipelines = new PipelineCache(gpu);
    gpu.lost.then((info) => {
      if (!this.#isDestroyed) this.#lostError = new DeviceLostError(info.reason, info.message || "no message");
    });
    gpu.addEventListener("uncapturederror", (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.#gpuErrors.push(new GpuError("submitted work", error.message));
    });
  }

  /**
   * Requests an adapter (a real GPU first, a software one otherwise) and a device with the
   * adapter's real buffer limits and the optional features it has (`shader-f16`, `subgroups`,
   * `timestamp-query`). The first device created becomes the default for tensor factories.
   */
  static async create(options: DeviceOptions = {}): Promise<Device> {
    if (options.maxBindingBytes !== undefined && !(options.maxBindingBytes >= 256)) {
      throw new RangeError(`Cannot create a device that binds at most ${options.maxBindingBytes} bytes: it must be at least 256`);
    }
    const adapter = options.adapter ?? (await requestAdapter(options));
    const requiredFeatures = OPTIONAL_FEATURES.filter(
      (feature) => adapter.features.has(feature) && !(options.withoutF16 && feature === "shader-f16"),
    );
    const requiredLimits: Record<string, number> = {};
    for (const name of LIMITS_TO_RAISE) requiredLimits[name] = adapter.limits[name];
    const gpu = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: "spo" });
    const info = adapter.info;
    const description = info.description || info.device || "";
    const facts: AdapterFacts = {
      vendor: info.vendor,
      architecture: info.architecture,
      description,
      isCpu:
        /llvmpipe|lavapipe|swiftshader|warp|software/i.test(`${info.vendor} ${info.architecture} ${description}`) ||
        (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
    };
    const device = new Device(gpu, adapter, facts, options);
    defaultDevice ??= device;
    return device;
  }

  /** The device tensor factories use when none is given; the first one created. */
  static get default(): Device {
    if (!defaultDevice || defaultDevice.#isDestroyed) {
      throw new Error("Cannot use the default device: none exists yet, await Device.create() first");
    }
    return defaultDevice;
  }

  static setDefault(device: Device): void {
    defaultDevice = device;
  }

  get hasF16(): boolean {
    return this.features.has("shader-f16");
  }

  get isLost(): boolean {
    return this.#lostError !== null;
  }

  /** Throws if the device was lost or destroyed; called by every op before recording work. */
  assertUsable(op: string): void {
    if (this.#lostError) throw this.#lostError;
    if (this.#isDestroyed) throw new DeviceDestroyedError(op);
  }

  /** Whether `destroy()` was called. */
  get isDestroyed(): boolean {
    return this.#isDestroyed;
  }

  memory(): MemoryStats {
    return this.pool.stats();
  }

  /** Submits recorded work now instead of waiting for a readback or the batch size. */
  flush(): void {
    this.queue.submit();
  }

  /**
   * Waits for all submitted work and raises any error WebGPU reported since the last call
   * (kernel compilation, validation, device loss).
   */
  async sync(): Promise<void> {
    this.assertUsable("sync");
    try {
      await this.queue.onIdle();
    } catch (error) {
      // destroyed while waiting: WebGPU rejects with a bare AbortError
      this.assertUsable("sync");
      throw error;
    }
    await this.raiseErrors();
  }

  /** Raises pending kernel-compilation, validation or device-loss errors. */
  async raiseErrors(): Promise<void> {
    await this.pipelines.verify();
    if (this.#lostError) throw this.#lostError;
    const error = this.#gpuErrors.shift();
    this.#gpuErrors = [];
    if (error) throw error;
  }

  /** Frees the GPU device; tensors of this device become unusable. Lets Node exit. */
  destroy(): void {
    if (this.#isDestroyed) return;
    this.#isDestroyed = true;
    this.pool.trim();
    this.gpu.destroy();
    if (defaultDevice === this) defaultDevice = null;
  }

  [Symbol.dispose](): void {
    this.destroy();
  }
}

async function requestAdapter(options: DeviceOptions): Promise<GPUAdapter> {
  const gpu = await findGpu(options);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? "high-performance" });
  if (!adapter) {
    throw new NoAdapterError(
      "Cannot create a WebGPU device: no adapter was found. On Linux without a GPU install Mesa's lavapipe " +
        "(Debian 12: mesa-vulkan-drivers and libvulkan1 from bookworm-backports; `npm run setup` does this)",
    );
  }
  return adapter;
}

async function findGpu(options: DeviceOptions): Promise<GPU> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu) return browserGpu;
  const isNode = typeof process !== "undefined" && !!process.versions?.node;
  if (!isNode) throw new NoAdapterError("Cannot create a WebGPU device: this browser has no navigator.gpu");
  const dawnOptions = [...(options.dawnOptions ?? [])];
  if (options.disableRobustness) dawnOptions.push("enable-dawn-features=allow_unsafe_apis,disable_robustness");
  // `#gpu` is gpu_node.ts under the `node` condition and gpu_browser.ts elsewhere (package.json "imports").
  const { nodeGpu } = await import("#gpu");
  return nodeGpu(dawnOptions);
}
