import type { OpDef } from "../ops/op_def.ts";
import { runOp } from "../ops/run_op.ts";
import type { HostTensor } from "../tensor/host_tensor.ts";
import { formatShape } from "../tensor/shape.ts";
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
