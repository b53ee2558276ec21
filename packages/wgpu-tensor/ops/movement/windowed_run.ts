import { recordGrad } from "../../autograd/record.ts";
import type { BufferBinding } from "../../device/command_queue.ts";
import type { Device } from "../../device/device.ts";
import { DeviceMismatchError } from "../../tensor/errors.ts";
import { Tensor } from "../../tensor/tensor.ts";
import type { BindingRef, KernelContext, KernelPlan, OpDef, TensorSpec } from "../op_def.ts";
import { kernelContext } from "../run_op.ts";

/** A byte range of a buffer bound as one storage binding. */
export interface ByteWindow {
  byteOffset: number;
  byteLength: number;
}

/** A binding that may be a window of its buffer instead of the whole buffer. */
export interface WindowedBinding {
  ref: BindingRef;
  window?: ByteWindow;
}

/** A dispatch whose bindings may be byte windows (a tensor above the binding-size limit). */
export interface WindowedPlan extends Omit<KernelPlan, "bindings"> {
  bindings: readonly WindowedBinding[];
}

/** What a windowed kernel plans with, beyond `KernelContext`. */
export interface WindowContext extends KernelContext {
  /** `minStorageBufferOffsetAlignment`: window offsets are multiples of it. */
  offsetAlignment: number;
  /** `maxStorageBuffersPerShaderStage`: how many windows one dispatch can bind. */
  maxStorageBuffers: number;
}

/** An op whose kernel binds windows of its buffers (so a tensor may exceed the binding limit). */
export interface WindowedOpDef<A> extends OpDef<A> {
  windowedKernel(inputs: readonly TensorSpec[], attrs: A, output: TensorSpec, context: WindowContext): WindowedPlan[];
}

/**
 * Splits a buffer's first `totalBytes` into consecutive binding windows of `stepBytes` (the largest
 * multiple of `offsetAlignment` not above `maxWindowBytes`; the last window is shorter, rounded up
 * to 4 bytes as storage bindings need). An element at byte b lies in window ⌊b / stepBytes⌋: f32 and
 * f16 elements never straddle two windows, since their sizes divide the alignment. The windows do
 * not overlap, so they may also be bound writable in one dispatch.
 *
 * @example
 * ```ts
 * planWindows(9600, 4096, 256).windows; // offsets 0, 4096, 8192; lengths 4096, 4096, 1408
 * ```
 */
export function planWindows(
  totalBytes: number,
  maxWindowBytes: number,
  offsetAlignment: number,
): { stepBytes: number; windows: ByteWindow[] } {
  const roundUp4 = (bytes: number) => Math.max(4, Math.ceil(bytes / 4) * 4);
  if (totalBytes <= maxWindowBytes) {
    return { stepBytes: Math.max(roundUp4(totalBytes), offsetAlignment), windows: [{ byteOffset: 0, byteLength: roundUp4(totalBytes) }] };
  }
  const stepBytes = Math.floor(maxWindowBytes / offsetAlignment) * offsetAlignment;
  if (stepBytes === 0) {
    throw new RangeError(
      `Cannot split ${totalBytes} bytes into binding windows of ${maxWindowBytes} bytes: window offsets must be multiples of ${offsetAlignment}`,
    );
  }
  const windows: ByteWindow[] = [];
  for (let byteOffset = 0; byteOffset < totalBytes; byteOffset += stepBytes) {
    windows.push({ byteOffset, byteLength: roundUp4(Math.min(stepBytes, totalBytes - byteOffset)) });
  }
  return { stepBytes, windows };
}

/**
 * A windowed plan as an ordinary plan, for `runOp`: only possible when every binding is its whole
 * buffer from offset 0 (one window), which is the case below the binding-size limit.
 */
export function asWholeBufferPlans(op: string, plans: readonly WindowedPlan[]): KernelPlan[] {
  return plans.map((plan) => {
    if (plan.bindings.some((b) => b.window && b.window.byteOffset !== 0)) {
      throw new RangeError(`Cannot run ${op} through runOp: its tensors exceed one storage binding, run it with runWindowedOp`);
    }
    return { ...plan, bindings: plan.bindings.map((b) => b.ref) };
  });
}

/** Like `runOp`, but binds the byte windows the plans name (see `WindowedOpDef`). */
export function runWindowedOp<A>(def: WindowedOpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const device = inputs[0]?.device;
  if (!device) throw new TypeError(`Cannot run ${def.name}: it needs at least one tensor input`);
  if (inputs.some((t) => t.device !== device)) throw new DeviceMismatchError(def.name);
  device.assertUsable(def.name);
  const buffers = inputs.map((t) => t.storageFor(def.name).buffer);
  const specs: TensorSpec[] = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype }));
  const outSpec = def.check(specs, attrs);
  const output = Tensor.empty(outSpec.shape, outSpec.dtype, device);
  if (output.size > 0) {
    const plans = def.windowedKernel(specs, attrs, outSpec, windowContext(device));
    for (const plan of plans) dispatchWindowed(device, plan, buffers, output.buffer);
  }
  if (def.backward !== "notDifferentiable") recordGrad(def.name, def.backward, inputs, output, attrs, def.saves);
  return output;
}

/** The device facts a windowed kernel plans with. */
export function windowContext(device: Device): WindowContext {
  return {
    ...kernelContext(device),
    offsetAlignment: device.limits.minStorageBufferOffsetAlignment,
    maxStorageBuffers: device.limits.maxStorageBuffersPerShaderStage,
  };
}

function dispatchWindowed(device: Device, plan: WindowedPlan, inputs: readonly GPUBuffer[], output: GPUBuffer): void {
  const kernel = device.pipelines.get(plan.key, plan.wgsl);
  const bindings: BufferBinding[] = plan.bindings.map(({ ref, window }) => {
    if (typeof ref === "object" && "temp" in ref)
      throw new TypeError(`Cannot dispatch ${plan.key}: windowed plans have no scratch buffers`);
    const buffer = ref === "output" ? output : inputs[ref.input];
    return window ? { buffer, offset: window.byteOffset, size: window.byteLength } : { buffer };
  });
  device.queue.dispatch(kernel, plan.params, bindings, plan.workgroups);
}
