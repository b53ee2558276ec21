import { Device } from "../device/device.ts";
import { keep as untrack, trackInScope } from "../memory/scope.ts";
import { Storage } from "../memory/storage.ts";
import { type ArrayFor, bytesPerElement, type DType } from "./dtype.ts";
import { halfBitsToFloat32 } from "./half.ts";
import { DisposedError } from "./errors.ts";
import { formatShape, inferReshape, type Shape, sizeOf } from "./shape.ts";

let nextTensorId = 0;

/** What autograd keeps on a tensor made by a differentiable op (see autograd/tape.ts). */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Turns the output gradient into one gradient per input (null where none flows). */
  backward(dy: Tensor): (Tensor | null)[];
  /** Frees what the node saved for backward. */
  release(): void;
}

/**
 * An n-dimensional array in GPU memory, row-major and contiguous. Ops are eager: each records GPU
 * work at once and returns a new tensor; only reading values back (`toArray`, `item`) is async.
 *
 * @example
 * ```ts
 * const x = tensor([1, 2, 3, 4], [2, 2]);
 * console.log(await x.toArray()); // Float32Array [1, 2, 3, 4]
 * x.dispose();
 * ```
 */
export class Tensor {
  /** Creation order; autograd walks tensors in reverse of it. */
  readonly id = nextTensorId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
  #storage: Storage | null;
  #isMeta = false;
  /** Whether gradients should flow to this tensor in `backward()`. */
  requiresGrad = false;
  /** The accumulated gradient after `backward()`, same shape as the tensor. */
  grad: Tensor | null = null;
  /** Set by autograd on outputs of differentiable ops. */
  gradNode: GradNode | null = null;

  /** Wraps a storage; given a Device instead, makes a shape-only (meta) tensor. */
  constructor(storage: Storage | Device, shape: Shape, dtype: DType) {
    const isMeta = storage instanceof Device;
    this.#storage = isMeta ? null : storage;
    this.#isMeta = isMeta;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.device = isMeta ? storage : storage.device;
    if (!isMeta) trackInScope(this);
  }

  /**
   * A shape-only tensor: no GPU memory until `materialize()` (which `loadStateDict` calls). Lets a
   * model as large as the SD1.5 UNet be built, counted and checked without allocating it.
   */
  static meta(shape: Shape, dtype: DType = "f32", device: Device = Device.default): Tensor {
    return new Tensor(device, shape, dtype);
  }

  get isMeta(): boolean {
    return this.#isMeta;
  }

  /**
   * Gives a meta tensor real (uninitialised) GPU memory, sized to its data rather than to a pool
   * bucket (parameters live as long as their model); no-op for other tensors.
   */
  materialize(): this {
    if (!this.#isMeta) return this;
    this.#storage = new Storage(this.device, this.byteLength, { exact: true });
    this.#isMeta = false; // not scope-tracked: parameters outlive the scope that loads them
    return this;
  }

  /**
   * The inverse of `materialize()`: lets go of the GPU memory and keeps the tensor as a shape-only
   * (meta) one, so modules that hold it stay intact. Weight offloading (`offloadToHost`) uses it.
   */
  unmaterialize(): this {
    if (this.#isMeta) return this;
    this.storageFor("unmaterialize").release();
    this.#storage = null;
    this.#isMeta = true;
    return this;
  }

  /** A tensor with uninitialised contents (for kernels that write every element). */
  static empty(shape: Shape, dtype: DType = "f32", device: Device = Device.default): Tensor {
    const storage = new Storage(device, sizeOf(shape) * bytesPerElement(dtype));
    return new Tensor(storage, shape, dtype);
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get byteLength(): number {
    return this.size * bytesPerElement(this.dtype);
  }

  get isDisposed(): boolean {
    return this.#storage === null && !this.#isMeta;
  }

  /** The GPU storage; throws DisposedError (naming `op`) if the tensor was disposed. */
  storageFor(op: string): Storage {
    if (this.#isMeta) {
      throw new DisposedError(
        op,
        this.shape,
        `Cannot run ${op}: a tensor of shape ${formatShape(this.shape)} is shape-only (meta); load or materialize it first`,
      );
    }
    if (!this.#storage) throw new DisposedError(op, this.shape);
    return this.#storage;
  }

  get buffer(): GPUBuffer {
    return this.storageFor("buffer").buffer;
  }

  /**
   * Another handle on the same storage that no scope tracks; autograd keeps these for backward so
   * that a user disposing an intermediate does not pull data out from under the graph.
   */
  static alias(source: Tensor): Tensor {
    const alias = new Tensor(source.storageFor("alias").retain(), source.shape, source.dtype);
    untrack(alias);
    return alias;
  }

  /** Returns the buffer to the pool (once no other view shares it). Safe to call twice. */
  dispose(): void {
    this.#isMeta = false;
    if (!this.#storage) return;
    this.#storage.release();
    this.#storage = null;
    this.grad?.dispose();
    this.grad = null;
    // gradNode stays: later nodes of the graph may still walk through it in backward()
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Same data, new shape (one dimension may be -1). Shares storage; no GPU work. Autograd-aware
   * reshapes are `reshape()` in ops/movement; this low-level view is for kernels and loaders.
   */
  view(...shape: number[]): Tensor {
    const resolved = inferReshape("view", this.shape, shape);
    return new Tensor(this.storageFor("view").retain(), resolved, this.dtype);
  }

  /** Copies the values to the host. f16 is widened to f32. */
  async toArray(): Promise<ArrayFor<this["dtype"]>> {
    const storage = this.storageFor("toArray");
    this.device.assertUsable("toArray");
    let bytes: ArrayBuffer;
    try {
      bytes = await this.device.queue.read(storage.buffer, 0, this.byteLength);
    } catch (error) {
      // destroyed or lost while the read was waiting: WebGPU rejects with a bare AbortError
      this.device.assertUsable("toArray");
      throw error;
    }
    await this.device.raiseErrors();
    return decodeHost(bytes, this.dtype, this.size) as ArrayFor<this["dtype"]>;
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) {
      throw new RangeError(`Cannot read item() of a tensor of shape ${formatShape(this.shape)}: it holds ${this.size} elements, not 1`);
    }
    return (await this.toArray())[0];
  }

  toString(): string {
    const state = this.#isMeta ? ", meta" : this.isDisposed ? ", disposed" : "";
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${state})`;
  }
}

function decodeHost(bytes: ArrayBuffer, dtype: DType, size: number): Float32Array | Int32Array | Uint32Array {
  switch (dtype) {
    case "f32":
      return new Float32Array(bytes, 0, size);
    case "i32":
      return new Int32Array(bytes, 0, size);
    case "u32":
      return new Uint32Array(bytes, 0, size);
    case "f16": {
      return halfBitsToFloat32(new Uint16Array(bytes, 0, size));
    }
  }
}
