import { recordGrad } from "../autograd/record.ts";
import type { Device } from "../device/device.ts";
import type { BufferBinding } from "../device/command_queue.ts";
import { Storage } from "../memory/storage.ts";
import { DeviceMismatchError } from "../tensor/errors.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { KernelContext, KernelPlan, KernelProgram, OpDef, TensorSpec } from "./op_def.ts";

/**
 * Runs one primitive op: checks shapes (throwing before any GPU work), allocates the output,
 * records the kernel's dispatches and, when gradients are on, the backward node.
 */
export function runOp<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const device = commonDevice(def.name, inputs);
  device.assertUsable(def.name);
  const storages = inputs.map((t) => t.storageFor(def.name));
  const specs: TensorSpec[] = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype }));
  const outSpec = def.check(specs, attrs);
  const output = Tensor.empty(outSpec.shape, outSpec.dtype, device);
  if (output.size > 0) {
    const program = def.kernel(specs, attrs, outSpec, kernelContext(device));
    runProgram(device, program, storages.map((s) => s.buffer), output.buffer);
  }
  if (def.backward !== "notDifferentiable") {
    recordGrad(def.name, def.backward, inputs, output, attrs, def.saves);
  }
  return output;
}

export function kernelContext(device: Device): KernelContext {
  return {
    isCpuAdapter: device.adapter.isCpu,
    hasF16: device.hasF16,
    hasSubgroups: device.features.has("subgroups"),
    maxBindingBytes: device.limits.maxStorageBufferBindingSize,
  };
}

/** Records a kernel program's dispatches against the given buffers. */
export function runProgram(
  device: Device,
  program: KernelPlan | KernelProgram,
  inputs: readonly GPUBuffer[],
  output: GPUBuffer,
): void {
  const passes = "passes" in program ? program.passes : [program];
  const temps = ("passes" in program ? program.temps ?? [] : []).map((bytes) => new Storage(device, bytes));
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
