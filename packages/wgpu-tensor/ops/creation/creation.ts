import { Device } from "../../device/device.ts";
import { bytesPerElement, type DType } from "../../tensor/dtype.ts";
import { float32ToHalfBits } from "../../tensor/half.ts";
import { ShapeError } from "../../tensor/errors.ts";
import { checkShape, formatShape, type Shape, sizeOf } from "../../tensor/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelPlan } from "../op_def.ts";

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
}

type NestedNumbers = number | readonly NestedNumbers[];

/**
 * A tensor from host data: a typed array or (nested) number array, with an optional shape
 * (default: the nesting, or 1-D). The options may take the shape's place.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);   // shape [2, 2], f32
 * const ids = tensor([5, 7], [2], { dtype: "i32" });
 * const y = tensor([1, 2, 3], { device }); // shape [3] on that device
 * ```
 */
export function tensor(data: ArrayLike<number> | NestedNumbers, options?: CreateOptions): Tensor;
export function tensor(data: ArrayLike<number> | NestedNumbers, shape?: Shape, options?: CreateOptions): Tensor;
export function tensor(
  data: ArrayLike<number> | NestedNumbers,
  shapeOrOptions?: Shape | CreateOptions,
  maybeOptions: CreateOptions = {},
): Tensor {
  const isOptions =
    shapeOrOptions !== undefined && shapeOrOptions !== null && typeof shapeOrOptions === "object" && !Array.isArray(shapeOrOptions);
  if (shapeOrOptions !== undefined && !isOptions && !Array.isArray(shapeOrOptions)) {
    throw new ShapeError("tensor", [], `Cannot create a tensor: the shape must be an array of sizes, got ${String(shapeOrOptions)}`);
  }
  const shape = isOptions ? undefined : (shapeOrOptions as Shape | undefined);
  const options = isOptions ? (shapeOrOptions as CreateOptions) : maybeOptions;
  const device = options.device ?? Device.default;
  const dtype = options.dtype ?? (data instanceof Int32Array ? "i32" : data instanceof Uint32Array ? "u32" : "f32");
  const flat = flatten(data);
  const resolved = shape ?? nestedShape(data);
  checkShape("tensor", resolved);
  if (flat.length !== sizeOf(resolved)) {
    throw new ShapeError(
      "tensor",
      [resolved],
      `Cannot create a tensor of shape ${formatShape(resolved)} from ${flat.length} values: it needs ${sizeOf(resolved)}`,
    );
  }
  device.assertUsable("tensor");
  const out = Tensor.empty(resolved, dtype, device);
  const bytes = encode(flat, dtype);
  if (bytes.byteLength > 0) device.gpu.queue.writeBuffer(out.buffer, 0, new Uint8Array(bytes));
  return out;
}

/** A 0-d tensor holding one number. */
export function scalar(value: number, options: CreateOptions = {}): Tensor {
  return tensor([value], [], options);
}

export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  checkShape("full", shape);
  const device = options.device ?? Device.default;
  device.assertUsable("full");
  const dtype = options.dtype ?? "f32";
  const out = Tensor.empty(shape, dtype, device);
  fillWindows(device, out, value, 0);
  return out;
}

/**
 * Fills an existing tensor with `value` in place (no autograd): for parameters, whose storage is
 * allocated at its own size rather than taken from an op's output.
 */
export function fillInPlace(out: Tensor, value: number): Tensor {
  out.device.assertUsable("fillInPlace");
  fillWindows(out.device, out, value, 0);
  return out;
}

export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Tensors of zeros/ones shaped like another (same dtype and device). */
export function zerosLike(like: Tensor): Tensor {
  return full(like.shape, 0, { dtype: like.dtype, device: like.device });
}

export function onesLike(like: Tensor): Tensor {
  return full(like.shape, 1, { dtype: like.dtype, device: like.device });
}

/** start, start + step, … up to (excluding) end, like `torch.arange`. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new RangeError("Cannot run arange: step must not be 0");
  const count = Math.max(0, Math.ceil((end - start) / step));
  const device = options.device ?? Device.default;
  device.assertUsable("arange");
  const dtype = options.dtype ?? (Number.isInteger(start) && Number.isInteger(step) ? "i32" : "f32");
  const out = Tensor.empty([count], dtype, device);
  fillWindows(device, out, start, step);
  return out;
}

/**
 * out[i] = start + i·step, window by window: an output larger than one storage binding
 * (`maxStorageBufferBindingSize`, 128 MiB on lavapipe) is bound as several windows of its buffer,
 * each a multiple of 256 elements long so that every offset is 256-byte aligned.
 */
function fillWindows(device: Device, out: Tensor, start: number, step: number): void {
  const elementBytes = bytesPerElement(out.dtype);
  const windowElements = Math.max(256, Math.floor(device.maxBindingBytes / elementBytes / 256) * 256);
  for (let first = 0; first < out.size; first += windowElements) {
    const count = Math.min(windowElements, out.size - first);
    const plan = fillKernel(out.dtype, count, start + first * step, step);
    const kernel = device.pipelines.get(plan.key, plan.wgsl);
    // f16 windows end on a 4-byte boundary (bindings are whole words); the kernel stops at `count`
    const binding = { buffer: out.buffer, offset: first * elementBytes, size: Math.ceil((count * elementBytes) / 4) * 4 };
    device.queue.dispatch(kernel, plan.params, [binding], plan.workgroups);
  }
}

function fillKernel(dtype: DType, size: number, start: number, step: number): KernelPlan {
  const isInt = dtype === "i32" || dtype === "u32";
  const params = new Params().u32("size", size);
  if (isInt) params.i32("start", start).i32("step", step);
  else params.f32("start", start).f32("step", step);
  const key = `fill_${dtype}`;
  return {
    key,
    wgsl: () => `${dtype === "f16" ? "enable f16;\n" : ""}${params.struct()}
@group(0) @binding(1) var<storage, read_write> y: array<${dtype}>;
${linearMain(256)}
  if (index >= p.size) { return; }
  y[index] = ${dtype}(p.start + ${isInt ? "i32(index)" : "f32(index)"} * p.step);
}`,
    params: params.pack(),
    workgroups: linearGrid(size, 256),
    bindings: ["output"],
  };
}

function flatten(data: ArrayLike<number> | NestedNumbers): ArrayLike<number> {
  if (typeof data === "number") return [data];
  if (ArrayBuffer.isView(data)) return data as unknown as ArrayLike<number>;
  return (data as readonly NestedNumbers[]).flat(Infinity as 1) as number[];
}

function nestedShape(data: ArrayLike<number> | NestedNumbers): number[] {
  if (typeof data === "number") return [];
  if (ArrayBuffer.isView(data)) return [(data as unknown as ArrayLike<number>).length];
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function encode(values: ArrayLike<number>, dtype: DType): ArrayBuffer {
  const paddedBytes = Math.ceil((values.length * (dtype === "f16" ? 2 : 4)) / 4) * 4;
  const buffer = new ArrayBuffer(paddedBytes);
  if (dtype === "f32") new Float32Array(buffer).set(values);
  else if (dtype === "i32") new Int32Array(buffer).set(values);
  else if (dtype === "u32") new Uint32Array(buffer).set(values);
  else {
    float32ToHalfBits(values, new Uint16Array(buffer));
  }
  return buffer;
}
