import { Device } from "../../device/device.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { formatShape } from "../../tensor/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { assertClose, type Tolerance } from "../../testing/assert_close.ts";
import { fromHost, toHost } from "../../testing/host_transfer.ts";
import type { KernelContext, OpDef } from "../op_def.ts";
import { kernelContext, runProgram } from "../run_op.ts";

/**
 * Like `checkAgainstReference`, but plans the kernel as for another adapter: on lavapipe,
 * `{ isCpuAdapter: false }` runs the variant GPUs get, so every variant is tested here. Test-only.
 */
export async function checkVariant<A>(
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
      runProgram(device, def.kernel(specs, attrs, outSpec, context), gpuInputs.map((t) => t.buffer), output.buffer);
    }
    const actual = await toHost(output);
    const label = `${def.name}(${inputs.map((t) => formatShape(t.shape)).join(", ")}; ${JSON.stringify(attrs)}; ${JSON.stringify(overrides)})`;
    assertClose(actual.data, expected.data, tolerance, label);
  } finally {
    output.dispose();
    gpuInputs.forEach((t) => t.dispose());
  }
}
