import type { BufferPool } from "../memory/buffer_pool.ts";
import { whileAlive } from "./keep_alive.ts";
import { PinnedBindGroups } from "./pinned_bind_groups.ts";
import type { CompiledKernel } from "./pipeline_cache.ts";

/** A storage-buffer binding: a whole buffer or a byte window of one. */
export interface BufferBinding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

const UNIFORM_ALIGN = 256;
const UNIFORM_RING_BYTES = 256 * UNIFORM_ALIGN;

/**
 * Records dispatches into one command encoder (and one compute pass) and submits them in batches:
 * after `submitEvery` dispatches, before any readback, and on `flush()`. Kernel parameters go to one
 * uniform ring per batch, uploaded with a single write just before the submit, or, for cached
 * plans, to a permanent slot (see `PinnedBindGroups`).
 */
export class CommandQueue {
  readonly #gpu: GPUDevice;
  readonly #pool: BufferPool;
  readonly #submitEvery: number;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #ring: GPUBuffer;
  readonly #pinned: PinnedBindGroups;
  readonly #ringStaging = new Uint8Array(UNIFORM_RING_BYTES);
  /** The pipeline last set on the open compute pass (a new pass starts with none). */
  #passPipeline: GPUComputePipeline | null = null;
  #ringUsed = 0;
  #pendingDispatches = 0;
  #submits = 0;
  #dispatches = 0;

  constructor(gpu: GPUDevice, pool: BufferPool, submitEvery: number) {
    this.#gpu = gpu;
    this.#pool = pool;
    this.#submitEvery = submitEvery;
    this.#ring = this.#newRing();
    this.#pinned = new PinnedBindGroups(gpu);
  }

  /**
   * Totals since creation: dispatches recorded, submits made, and dispatches that reused a pinned
   * bind group.
   */
  get counters(): { dispatches: number; submits: number; reusedBindGroups: number } {
    return { dispatches: this.#dispatches, submits: this.#submits, reusedBindGroups: this.#pinned.hits };
  }

  /**
   * Records one dispatch. This is the per-op host path: a cached plan's dispatch reuses a pinned
   * bind group when it binds the same buffers again (`PinnedBindGroups`), any other gets a fresh
   * one over the uniform ring; `setPipeline` only when the pass has another pipeline.
   */
  dispatch(
    kernel: CompiledKernel,
    uniforms: ArrayBuffer,
    buffers: readonly BufferBinding[],
    workgroups: readonly [number, number, number],
  ): void {
    const uniformBytes = uniforms.byteLength;
    if (uniformBytes > UNIFORM_ALIGN) {
      throw new RangeError(`Cannot dispatch "${kernel.key}": ${uniformBytes} bytes of parameters exceed ${UNIFORM_ALIGN}`);
    }
    const bindGroup = this.#pinned.get(kernel, uniforms, buffers) ?? this.#ringBindGroup(kernel, uniforms, buffers);
    const pass = this.#computePass();
    if (this.#passPipeline !== kernel.pipeline) {
      pass.setPipeline(kernel.pipeline);
      this.#passPipeline = kernel.pipeline;
    }
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    this.#pendingDispatches++;
    this.#dispatches++;
    if (this.#pendingDispatches >= this.#submitEvery) this.submit();
  }

  /** A bind group for this dispatch only, its parameters in this batch's uniform ring. */
  #ringBindGroup(kernel: CompiledKernel, uniforms: ArrayBuffer, buffers: readonly BufferBinding[]): GPUBindGroup {
    if (this.#ringUsed + UNIFORM_ALIGN > UNIFORM_RING_BYTES) this.submit();
    const uniformOffset = this.#ringUsed;
    this.#ringStaging.set(new Uint8Array(uniforms), uniformOffset);
    this.#ringUsed += UNIFORM_ALIGN;
    const uniformBytes = uniforms.byteLength;
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.#ring, offset: uniformOffset, size: uniformBytes < 16 ? 16 : uniformBytes } },
    ];
    for (let i = 0; i < buffers.length; i++) {
      const binding = buffers[i];
      const resource: GPUBufferBinding = { buffer: binding.buffer };
      if (binding.offset !== undefined) resource.offset = binding.offset;
      if (binding.size !== undefined) resource.size = binding.size;
      entries.push({ binding: i + 1, resource });
    }
    return this.#gpu.createBindGroup({ layout: kernel.layout, entries });
  }

  /** Records a buffer-to-buffer copy (closes the open compute pass). */
  copy(source: GPUBuffer, sourceOffset: number, target: GPUBuffer, targetOffset: number, byteLength: number): void {
    this.#endPass();
    this.#encoderOrNew().copyBufferToBuffer(source, sourceOffset, target, targetOffset, byteLength);
  }

  /** Submits everything recorded so far. */
  submit(): void {
    this.#endPass();
    if (this.#encoder) {
      if (this.#ringUsed > 0) this.#gpu.queue.writeBuffer(this.#ring, 0, this.#ringStaging, 0, this.#ringUsed);
      this.#gpu.queue.submit([this.#encoder.finish()]);
      this.#submits++;
    }
    this.#encoder = null;
    this.#ringUsed = 0;
    this.#pendingDispatches = 0;
    this.#pool.onSubmit();
  }

  /** Copies a byte range of a buffer to the host, after submitting all recorded work. */
  async read(source: GPUBuffer, byteOffset: number, byteLength: number): Promise<ArrayBuffer> {
    const paddedLength = Math.ceil(byteLength / 4) * 4;
    const staging = this.#gpu.createBuffer({
      label: "readback",
      size: Math.max(paddedLength, 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.copy(source, byteOffset, staging, 0, paddedLength);
    this.submit();
    try {
      await whileAlive(staging.mapAsync(GPUMapMode.READ));
      const copy = staging.getMappedRange(0, paddedLength).slice(0, byteLength);
      // unmap before destroy: dawn.node frees the mapping safely only through unmap
      staging.unmap();
      return copy;
    } finally {
      staging.destroy();
    }
  }

  /** Resolves when the GPU has finished everything submitted so far. */
  async onIdle(): Promise<void> {
    this.submit();
    await whileAlive(this.#gpu.queue.onSubmittedWorkDone());
  }

  #computePass(): GPUComputePassEncoder {
    if (!this.#pass) {
      this.#pass = this.#encoderOrNew().beginComputePass();
      this.#passPipeline = null;
    }
    return this.#pass;
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
    this.#passPipeline = null;
  }

  #encoderOrNew(): GPUCommandEncoder {
    if (!this.#encoder) this.#encoder = this.#gpu.createCommandEncoder();
    return this.#encoder;
  }

  #newRing(): GPUBuffer {
    return this.#gpu.createBuffer({
      label: "uniform_ring",
      size: UNIFORM_RING_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }
}
