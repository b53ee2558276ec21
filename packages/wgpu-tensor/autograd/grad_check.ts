import type { OpDef } from "../ops/op_def.ts";
import { runOp } from "../ops/run_op.ts";
import type { HostTensor } from "../tensor/host_tensor.ts";
import { formatShape } from "../tensor/shape.ts";
import { assertClose, type Tolerance } from "../testing/assert_close.ts";
import { seededValues } from "../testing/arbitraries.ts";
import { fromHost } from "../testing/host_transfer.ts";
import { backward } from "./backward.ts";

export interface GradCheckOptions {
  /** Which inputs to differentiate (default: every float input). */
  wrt?: readonly number[];
  /** Central-difference step on the f64 reference. Default 1e-5 (truncation error ~h² ≈ 1e-10). */
  step?: number;
  tolerance: Tolerance;
  seed?: number;
}

/**
 * Checks an op's GPU backward against central finite differences of its f64 JS reference.
 * With a random upstream gradient G, the scalar L = Σ op(x)·G has ∂L/∂x = backward(G), and
 * (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h approximates it to O(h²) in exact f64 arithmetic, so the
 * comparison measures only the GPU's f32 rounding and the correctness of the rule.
 */
export async function checkGradients<A>(def: OpDef<A>, inputs: readonly HostTensor[], attrs: A, options: GradCheckOptions): Promise<void> {
  const wrt = options.wrt ?? inputs.flatMap((t, i) => (t.dtype === "f32" ? [i] : []));
  const step = options.step ?? 1e-5;
  const expectedOut = def.reference(inputs, attrs);
  const upstream: HostTensor = {
    shape: expectedOut.shape,
    dtype: "f32",
    data: Float64Array.from(Float32Array.from(seededValues(options.seed ?? 7, expectedOut.data.length))),
  };
  const loss = (xs: readonly HostTensor[]) => {
    const out = def.reference(xs, attrs).data;
    let total = 0;
    for (let i = 0; i < out.length; i++) total += out[i] * upstream.data[i];
    return total;
  };

  const gpuInputs = inputs.map((host) => fromHost(host));
  wrt.forEach((i) => (gpuInputs[i].requiresGrad = true));
  const output = runOp(def, gpuInputs, attrs);
  const seedGrad = fromHost(upstream);
  try {
    backward(output, seedGrad);
    for (const i of wrt) {
      const grad = gpuInputs[i].grad;
      const context = `gradient of ${def.name} w.r.t. input ${i} ${formatShape(inputs[i].shape)} (${JSON.stringify(attrs)})`;
      if (!grad) throw new Error(`${context}: no gradient reached the input`);
      const actual = await grad.toArray();
      const numeric = new Float64Array(inputs[i].data.length);
      for (let e = 0; e < numeric.length; e++) {
        const plus = inputs.map((t, j) => (j === i ? bump(t, e, step) : t));
        const minus = inputs.map((t, j) => (j === i ? bump(t, e, -step) : t));
        numeric[e] = (loss(plus) - loss(minus)) / (2 * step);
      }
      assertClose(actual, numeric, options.tolerance, context);
    }
  } finally {
    output.dispose();
    seedGrad.dispose();
    gpuInputs.forEach((t) => t.dispose());
  }
}

function bump(t: HostTensor, index: number, delta: number): HostTensor {
  const data = Float64Array.from(t.data);
  data[index] += delta;
  return { ...t, data };
}
