import type { HostTensor } from "../../tensor/host_tensor.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { assertClose } from "../../testing/assert_close.ts";
import { randomHost } from "../../testing/arbitraries.ts";
import { fromHost, toHost } from "../../testing/host_transfer.ts";
import type { GradRule, OpDef } from "../op_def.ts";
import { runOp } from "../run_op.ts";

// Test-only: checks an op's gradient rule, run on the GPU, against central differences of its
// f64 reference. Small inputs only (two reference evaluations per input element).

/** ∂/∂input Σ dy·f(inputs) by central differences of the f64 reference. */
export function numericGrad<A>(def: OpDef<A>, inputs: HostTensor[], attrs: A, dy: HostTensor, which: number): Float64Array {
  const h = 1e-5;
  const loss = () => def.reference(inputs, attrs).data.reduce((sum, v, i) => sum + v * dy.data[i], 0);
  const grad = new Float64Array(inputs[which].data.length);
  for (let i = 0; i < grad.length; i++) {
    const saved = inputs[which].data[i];
    inputs[which].data[i] = saved + h;
    const plus = loss();
    inputs[which].data[i] = saved - h;
    const minus = loss();
    inputs[which].data[i] = saved;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

/** Runs an op's gradient rule on the GPU and compares every input's gradient with finite differences. */
export async function checkGradRule<A>(def: OpDef<A>, inputs: HostTensor[], attrs: A, seed: number): Promise<void> {
  const gpuInputs = inputs.map((h) => fromHost(h));
  const output = runOp(def, gpuInputs, attrs);
  const dyHost = randomHost(output.shape, seed + 7);
  const dy = fromHost(dyHost);
  const grads = (def.backward as GradRule<A>)({ inputs: gpuInputs, output, dy, attrs });
  try {
    for (let k = 0; k < inputs.length; k++) {
      const expected = numericGrad(def, inputs, attrs, dyHost, k);
      // f32 gradients vs f64 differences: sums over up to a row of terms, a few ULPs each
      const tolerance = { atol: 2e-4, rtol: 2e-3 };
      if (grads[k] === null) throw new Error(`${def.name}: no gradient for input ${k}`);
      assertClose((await toHost(grads[k] as Tensor)).data, expected, tolerance, `${def.name} gradient of input ${k}`);
    }
  } finally {
    [...gpuInputs, output, dy, ...grads].forEach((t) => t?.dispose());
  }
}
