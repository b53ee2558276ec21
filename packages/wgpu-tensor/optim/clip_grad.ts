import { noGrad } from "../autograd/grad_mode.ts";
import { keep, tidy } from "../memory/scope.ts";
import { scalar } from "../ops/creation/creation.ts";
import { add, div, minimum, mul, sqrt, square } from "../ops/elementwise/elementwise_ops.ts";
import { sum } from "../ops/reduce/reduce_ops.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * The global L2 norm of the parameters' gradients, √Σ‖gᵢ‖², as a 0-d tensor (0 when none has a
 * gradient). No readback.
 */
export function gradNorm(params: Iterable<Tensor>): Tensor {
  const withGrad = [...params].filter((p) => p.grad);
  if (withGrad.length === 0) return scalar(0);
  return noGrad(() =>
    tidy(() => {
      let squares = sum(square(withGrad[0].grad!));
      for (const p of withGrad.slice(1)) squares = add(squares, sum(square(p.grad!)));
      return sqrt(squares);
    }),
  );
}

/**
 * Rescales gradients so their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_):
 * total = √Σ‖gᵢ‖², every g ← g · min(1, maxNorm / (total + 1e-6)). Runs on the GPU with no
 * readback; returns the total norm as a 0-d tensor (read it only when you need it).
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): Tensor {
  const withGrad = [...params].filter((p) => p.grad);
  if (withGrad.length === 0) return scalar(0);
  return noGrad(() => {
    const total = keep(gradNorm(withGrad));
    const coefficient = tidy(() => minimum(div(maxNorm, add(total, 1e-6)), 1));
    for (const p of withGrad) {
      const scaled = keep(mul(p.grad!, coefficient));
      p.grad!.dispose();
      p.grad = scaled;
    }
    coefficient.dispose();
    return total;
  });
}
