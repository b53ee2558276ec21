import type { CompiledKernel } from "./pipeline_cache.ts";

const SLOT_BYTES = 256; // minUniformBufferOffsetAlignment
/**
 * Bind groups kept in all. A chain of 100 tiny ops cycles through ~65 pooled buffers and meets
 * ~130 (input, output) pairs, so a few thousand cover the loops of a model.
 */
const MAX_GROUPS = 4096;
/** Parameter blocks per arena buffer (256 KiB of uniforms). */
const ARENA_SLOTS = 1024;
/**
 * Arenas at most (4 MiB): slots are never reused (a freed plan's slot could still be read by
 * recorded work), so a process meeting ever new shapes pins up to 16,384 plans, then falls back.
 */
const MAX_ARENAS = 16;

const stableUniforms = new WeakSet<ArrayBuffer>();

/**
 * Declares a kernel's packed parameters immutable and reused (a cached kernel plan's): the queue
 * may then pin them in GPU memory once and reuse bind groups made over them. Never mutate
 * `params` afterwards.
 */
export function markStableUniforms(params: ArrayBuffer): void {
  stableUniforms.add(params);
}

/** A whole-buffer storage binding (windows are never pinned). */
interface WholeBinding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/**
 * Bind groups that outlive one dispatch. `createBindGroup` is the largest host cost of a small
 * dispatch in Dawn (~15–30 µs on lavapipe, benchmarks/probes/bind_group_cost_node.ts), and a loop
 * of ops on cached plans binds the same parameters and, as the buffer pool hands buffers back in
 * the same order, often the same buffers. Stable parameter blocks get a permanent slot in one
 * uniform arena (written once); bind groups over a slot and a list of whole buffers are kept by
 * buffer identity. A destroyed buffer is never handed out again, so its stale groups are never
 * hit; the number of groups is capped, dropping the oldest. The arena grows by whole buffers up to
 * a cap; past it, or when a binding is a window, the caller falls back to per-dispatch bind groups.
 */
export class PinnedBindGroups {
  readonly #gpu: GPUDevice;
  readonly #arenas: GPUBuffer[] = [];
  #slotsUsed = 0;
  /** Slot number per stable parameter block: arena ⌊n / arenaSlots⌋, offset (n mod arenaSlots)·256. */
  readonly #slots = new WeakMap<ArrayBuffer, number>();
  /** By slot and buffer ids, oldest first. */
  readonly #groups = new Map<string, GPUBindGroup>();
  readonly #ids = new WeakMap<object, number>();
  #nextId = 0;
  #hits = 0;
  readonly #arenaSlots: number;
  readonly #maxArenas: number;
  readonly #maxGroups: number;

  /** `arenaSlots`, `maxArenas` and `maxGroups` are for tests; the defaults suit models. */
  constructor(gpu: GPUDevice, options: { arenaSlots?: number; maxArenas?: number; maxGroups?: number } = {}) {
    this.#gpu = gpu;
    this.#arenaSlots = options.arenaSlots ?? ARENA_SLOTS;
    this.#maxArenas = options.maxArenas ?? MAX_ARENAS;
    this.#maxGroups = options.maxGroups ?? MAX_GROUPS;
  }

  /** Dispatches that reused a bind group instead of making one. */
  get hits(): number {
    return this.#hits;
  }

  /** A reusable bind group for this dispatch, or null when it cannot be pinned. */
  get(kernel: CompiledKernel, uniforms: ArrayBuffer, buffers: readonly WholeBinding[]): GPUBindGroup | null {
    if (!stableUniforms.has(uniforms)) return null;
    // the layout too: a kernel recompiled after a failure gets a new one
    let key = `${this.#idOf(kernel.layout)}:`;
    for (const binding of buffers) {
      if (binding.offset !== undefined || binding.size !== undefined) return null;
      key += `${this.#idOf(binding.buffer)},`;
    }
    const slot = this.#slotFor(uniforms);
    if (slot === null) return null;
    key += slot;
    const cached = this.#groups.get(key);
    if (cached) {
      this.#hits++;
      return cached;
    }
    const entries: GPUBindGroupEntry[] = [
      {
        binding: 0,
        resource: {
          buffer: this.#arenas[Math.floor(slot / this.#arenaSlots)]!,
          offset: (slot % this.#arenaSlots) * SLOT_BYTES,
          size: Math.max(uniforms.byteLength, 16),
        },
      },
    ];
    for (let i = 0; i < buffers.length; i++) entries.push({ binding: i + 1, resource: { buffer: buffers[i].buffer } });
    const group = this.#gpu.createBindGroup({ layout: kernel.layout, entries });
    if (this.#groups.size >= this.#maxGroups) this.#groups.delete(this.#groups.keys().next().value as string);
    this.#groups.set(key, group);
    return group;
  }

  /** The slot holding these parameters, written on first use; null when every arena is full. */
  #slotFor(uniforms: ArrayBuffer): number | null {
    const existing = this.#slots.get(uniforms);
    if (existing !== undefined) return existing;
    if (this.#slotsUsed >= this.#arenaSlots * this.#maxArenas || uniforms.byteLength > SLOT_BYTES) return null;
    const slot = this.#slotsUsed++;
    const arenaIndex = Math.floor(slot / this.#arenaSlots);
    if (arenaIndex === this.#arenas.length) {
      this.#arenas.push(
        this.#gpu.createBuffer({
          label: `pinned_uniforms_${arenaIndex}`,
          size: this.#arenaSlots * SLOT_BYTES,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
      );
    }
    // queue-ordered: lands before any submit that reads it, and the slot is never rewritten
    this.#gpu.queue.writeBuffer(this.#arenas[arenaIndex]!, (slot % this.#arenaSlots) * SLOT_BYTES, uniforms);
    this.#slots.set(uniforms, slot);
    return slot;
  }

  /** A number per buffer or layout object, for keys (WebGPU objects carry no id of their own). */
  #idOf(object: GPUBuffer | GPUBindGroupLayout): number {
    let id = this.#ids.get(object);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(object, id);
    }
    return id;
  }
}
