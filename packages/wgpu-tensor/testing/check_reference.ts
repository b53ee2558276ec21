import { Device } from "../device/device.ts";
import type { KernelContext, OpDef } from "../ops/op_def.ts";
import { kernelContext, runOp, runProgram } from "../ops/run_op.ts";
import type { HostTensor } from "../tensor/host_tensor.ts";
import { formatShape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { type Tolerance, assertClose } from "./assert_close.ts";
import { fromHost, toHost } from "./host_transfer.ts";

/**
 * Runs an op on the GPU and through its JS reference on the same inputs and compares them.
 * Disposes everything it made.
 */
export async function checkAgainstReference<A>(
  def: OpDef<A>,
  inputs: readonly HostTensor[],
  attrs: A,
  tolerance: Tolerance,
): Promise<void> {
  const expected = def.reference(inputs, attrs);
  const gpuInputs = inputs.map((host) => fromHost(host));
  const output = runOp(def, gpuInputs, attrs);
  try {
    const actual = await toHost(output);
    const context = `${def.name}(${inputs.map((t) => formatShape(t.shape)).join(", ")}; ${JSON.stringify(attrs)})`;
    if (formatShape(actual.shape) !== formatShape(expected.shape)) {
      throw new Error(`${context}: output shape ${formatShape(actual.shape)}, reference ${formatShape(expected.shape)}`);
    }
    assertClose(actual.data, expected.data, tolerance, context);
  } finally {
    output.dispose();
    gpuInputs.forEach((t) => t.dispose());
  }
}

/**
 * Like {@link checkAgainstReference}, but plans the kernel for another adapter kind: on this CPU
 * adapter, `{ isCpuAdapter: false }` runs the variants (workgroup sizes, split targets, work per
 * invocation, register blocks) that GPUs get, so they are tested even where no GPU is present.
 */
export async function checkVariantAgainstReference<A>(
  def: OpDef<A>,
  inputs: readonly HostTensor[],
  attrs: A,
  tolerance: Tolerance,
  overrides: Partial<KernelContext>,
): Promise<void> {
  const device = Device.default;
  const expected = def.reference(inputs, attrs);
  const gpuInputs = inputs.map((host) => fromHost(host, device));
  const specs = gpuInputs.map((t) => ({ shape: t.shape, dtype: t.dtype }));
  const outSpec = def.check(specs, attrs);
  const output = Tensor.empty(outSpec.shape, outSpec.dtype, device);
  try {
    if (output.size > 0) {
      const context = { ...kernelContext(device), ...overrides };
      runProgram(
        device,
        def.kernel(specs, attrs, outSpec, context),
        gpuInputs.map((t) => t.buffer),
        output.buffer,
      );
    }
    const actual = await toHost(output);
    const label = `${def.name}(${inputs.map((t) => formatShape(t.shape)).join(", ")}; ${JSON.stringify(attrs)}; ${JSON.stringify(overrides)})`;
    assertClose(actual.data, expected.data, tolerance, label);
  } finally {
    output.dispose();
    gpuInputs.forEach((t) => t.dispose());
  }
}
