import { tidy } from "../memory/scope.ts";
import { Tensor } from "../tensor/tensor.ts";
import { backward } from "./backward.ts";
import { isGradEnabled, noGrad, withGrad } from "./grad_mode.ts";
import { recordGrad } from "./record.ts";

/**
 * Gradient checkpointing (like `torch.utils.checkpoint`): runs `fn` without keeping its
 * intermediate activations, and recomputes them during backward. Only the block's inputs are
 * saved, so a deep model trains in the memory of its widest block instead of all blocks together.
 * `fn` must be deterministic (no fresh random draws) and differentiable in its tensor inputs;
 * parameters used inside it receive their gradients during the recomputation.
 *
 * @example
 * ```ts
 * const h = checkpoint((x) => block.forward(x, temb), hidden);
 * ```
 */
export function checkpoint(fn: (...inputs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor {
  if (!isGradEnabled()) return fn(...inputs);
  const output = noGrad(() => tidy(() => fn(...inputs)));
  const rule = ({ inputs: saved, dy }: { inputs: readonly Tensor[]; dy: Tensor }) => {
    // 1. fresh leaves over the saved inputs, so the recomputed graph ends at them
    const leaves = saved.map((t, i) => {
      const leaf = Tensor.alias(t);
      leaf.requiresGrad = inputs[i].requiresGrad;
      return leaf;
    });
    // 2. rebuild the block's graph and run backward through it (parameters accumulate as usual)
    withGrad(() => {
      const recomputed = tidy(() => fn(...leaves));
      if (recomputed.requiresGrad) backward(recomputed, dy);
      recomputed.dispose();
    });
    // 3. hand the inputs' gradients to the outer backward
    const grads = leaves.map((leaf) => leaf.grad);
    leaves.forEach((leaf) => {
      leaf.grad = null;
      leaf.dispose();
    });
    return grads;
  };
  // the block is differentiable when an input or a parameter inside it needs grad; we cannot see
  // the parameters, so the node is recorded whenever grad mode is on
  recordGrad("checkpoint", rule, inputs, output, null, { inputs: true, output: false }, { force: true });
  return output;
}
