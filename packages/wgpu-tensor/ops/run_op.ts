import { isGradEnabled } from "../autograd/grad_mode.ts";
import { recordGrad } from "../autograd/record.ts";
import type { Device } from "../device/device.ts";
import type { BufferBinding } from "../device/command_queue.ts";
import { Storage } from "../memory/storage.ts";
import { DeviceMismatchError } from "../tensor/errors.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkBindingSizes } from "./binding_limit.ts";
import type { KernelContext, KernelPlan, KernelProgram, OpDef, TensorSpec } from "./op_def.ts";

/**
 * Runs one primitive op: checks shapes (throwing before any GPU work), allocates the output,
 * records the kernel's dispatches and, when gradients are on, the backward node.
 */
export function runOp<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const device = commonDevice(def.name, inputs);
  device.assertUsable(def.name);
  // one pass over the inputs: this runs for every op, so it allocates as little as it can
  const buffers: GPUBuffer[] = [];
  const specs: TensorSpec[] = [];
  for (const input of inputs) {
    buffers.push(input.storageFor(def.name).buffer);
    specs.push({ shape: input.shape, dtype: input.dtype });
  }
  const outSpec = def.check(specs, attrs);
  const context = kernelContext(device);
  specs.push(outSpec);
  checkBindingSizes(def.name, specs, context.maxBindingBytes);
  specs.pop();
  const output = Tensor.empty(outSpec.shape, outSpec.dtype, device);
  if (output.size > 0) {
    const program = def.kernel(specs, attrs, outSpec, context);
    runProgram(device, program, buffers, output.buffer);
  }
  // the common inference case (no input needs a gradient) skips autograd entirely
  if (def.backward !== "notDifferentiable" && isGradEnabled() && anyRequiresGrad(inputs)) {
    recordGrad(def.name, def.backward, inputs, output, attrs, def.saves);
  }
  return output;
}

function anyRequiresGrad(inputs: readonly Tensor[]): boolean {
  for (const input of inputs) if (input.requiresGrad) return true;
  return false;
}

const contexts = new WeakMap<Device, KernelContext>();

/** What kernels may choose their variant by, made once per device (it is read on every op). */
export function kernelContext(device: Device): KernelContext {
  let context = contexts.get(device);
  if (!context) {
    context = {
      isCpuAdapter: device.adapter.isCpu,
      hasF16: device.hasF16,
      hasSubgroups: device.features.has("subgroups"),
      maxBindingBytes: device.maxBindingBytes,
    };
    contexts.set(device, context);
  }
  return context;
}

/** Records a kernel program's dispatches against the given buffers. */
export function runProgram(device: Device, program: KernelPlan | KernelProgram, inputs: readonly GPUBuffer[], output: GPUBuffer): void {
  if (!("passes" in program) && !program.bindings) {
    // the common case (one dispatch, default bindings) without the general path's allocations
    const kernel = device.pipelines.get(program.key, program.wgsl);
    const buffers: BufferBinding[] = [];
    for (const buffer of inputs) buffers.push({ buffer });
    buffers.push({ buffer: output });
    device.queue.dispatch(kernel, program.params, buffers, program.workgroups);
    return;
  }
  const passes = "passes" in program ? program.passes : [program];
  const temps = ("passes" in program ? (program.temps ?? []) : []).map((bytes) => new Storage(device, bytes));
  try {
    for (const plan of passes) {
      const kernel = device.pipelines.get(plan.key, plan.wgsl);
      const refs = plan.bindings ?? [...inputs.map((_, input) => ({ input })), "output" as const];
      const buffers: BufferBinding[] = refs.map((ref) => {
        if (ref === "output") return { buffer: output };
        if ("input" in ref) return { buffer: inputs[ref.input] };
        return { buffer: temps[ref.temp].buffer };
      });
      device.queue.dispatch(kernel, plan.params, buffers, plan.workgroups);
    }
  } finally {
    // released buffers are only reused after the submit that carries these dispatches
    temps.forEach((temp) => temp.release());
  }
}

function commonDevice(op: string, inputs: readonly Tensor[]): Device {
  if (inputs.length === 0) throw new TypeError(`Cannot run ${op}: it needs at least one tensor input`);
  const device = inputs[0].device;
  if (inputs.some((t) => t.device !== device)) throw new DeviceMismatchError(op);
  return device;
}
