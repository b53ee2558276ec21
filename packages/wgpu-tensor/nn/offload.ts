/**
 * Weights that wait in host memory while their model is not running (diffusers' "model CPU
 * offload"): a pipeline keeps its text encoder's and VAE's bytes on the host and puts each on the
 * GPU only for the phase that uses it. The module keeps its structure throughout: offloaded
 * parameters are shape-only (meta) tensors, and running the module then fails with a clear error.
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Module } from "./module.ts";

const offloads = new WeakMap<Module, HostOffload>();

/** A module's parameter and buffer bytes kept in host memory; see {@link offloadToHost}. */
export class HostOffload {
  readonly module: Module;
  readonly #copies: Map<Tensor, Uint8Array<ArrayBuffer>>;
  #isOnDevice = false;

  private constructor(module: Module, copies: Map<Tensor, Uint8Array<ArrayBuffer>>) {
    this.module = module;
    this.#copies = copies;
  }

  /** @internal (use {@link offloadToHost}) */
  static async create(module: Module): Promise<HostOffload> {
    const copies = new Map<Tensor, Uint8Array<ArrayBuffer>>();
    const tensors = [...module.namedParameters(), ...module.namedBuffers()].map(([, t]) => t);
    for (const t of tensors) {
      if (t.isMeta || copies.has(t)) continue;
      const padded = Math.ceil(t.byteLength / 4) * 4;
      copies.set(t, new Uint8Array(await t.device.queue.read(t.buffer, 0, padded)));
    }
    const offload = new HostOffload(module, copies);
    offload.#isOnDevice = true;
    offload.release();
    return offload;
  }

  /** Whether the weights are on the GPU now. */
  get isOnDevice(): boolean {
    return this.#isOnDevice;
  }

  /** Host bytes held (the weights' size, rounded up to 4 bytes per tensor). */
  get byteLength(): number {
    let total = 0;
    for (const bytes of this.#copies.values()) total += bytes.byteLength;
    return total;
  }

  /** Puts the weights on the GPU (new buffers, written from the host copies). No-op if they are there. */
  upload(): void {
    if (this.#isOnDevice) return;
    for (const [t, bytes] of this.#copies) {
      t.device.assertUsable("upload offloaded weights");
      t.materialize();
      t.device.gpu.queue.writeBuffer(t.buffer, 0, bytes);
    }
    this.#isOnDevice = true;
  }

  /**
   * Frees the weights' GPU memory (the host copies stay). The weights must not have changed on the
   * GPU since `upload()`: the host copy is what the next upload restores (a frozen model's are).
   */
  release(): void {
    if (!this.#isOnDevice) return;
    for (const t of this.#copies.keys()) t.unmaterialize();
    this.#isOnDevice = false;
  }
}

/**
 * Copies every parameter and buffer of `module` to host memory and frees their GPU memory; the
 * returned handle's `upload()` / `release()` move them back and forth. Calling it again on the same
 * module returns the same handle (after releasing its weights).
 *
 * @example
 * ```ts
 * const vaeWeights = await offloadToHost(vae); // 0.16 GiB of GPU memory back for SD1.5 in f16
 * // … sampling …
 * vaeWeights.upload();
 * const image = vae.decode(latents);
 * vaeWeights.release();
 * ```
 */
export async function offloadToHost(module: Module): Promise<HostOffload> {
  const existing = offloads.get(module);
  if (existing) {
    existing.release();
    return existing;
  }
  const offload = await HostOffload.create(module);
  offloads.set(module, offload);
  return offload;
}

/** The handle of a module offloaded with {@link offloadToHost}, if any. */
export function hostOffloadOf(module: Module): HostOffload | undefined {
  return offloads.get(module);
}
