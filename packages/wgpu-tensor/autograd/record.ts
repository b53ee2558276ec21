import type { GradRule } from "../ops/op_def.ts";
import { Tensor } from "../tensor/tensor.ts";
import { isGradEnabled } from "./grad_mode.ts";

/**
 * Attaches a backward node to `output` when gradients are on and an input needs one. The node
 * keeps aliases of what the rule reads (so disposing an intermediate is safe) until backward()
 * walks it or `releaseGraph` frees it.
 */
export function recordGrad<A>(
  op: string,
  rule: GradRule<A>,
  inputs: readonly Tensor[],
  output: Tensor,
  attrs: A,
  saves: { inputs: boolean; output: boolean } = { inputs: true, output: true },
  options: { force?: boolean } = {},
): void {
  if (!isGradEnabled()) return;
  if (!options.force && !inputs.some((t) => t.requiresGrad)) return;
  // aliases carry requiresGrad so rules can skip gradients nobody needs (frozen weights)
  let savedInputs: Tensor[] | null = saves.inputs ? inputs.map((t) => aliasLike(t)) : null;
  let savedOutput: Tensor | null = saves.output ? Tensor.alias(output) : null;
  let isReleased = false;
  output.requiresGrad = true;
  output.gradNode = {
    op,
    inputs,
    backward(dy: Tensor) {
      if (isReleased) {
        throw new Error(
          `Cannot run backward through ${op} a second time: its graph was freed by the first backward (pass retainGraph: true to keep it)`,
        );
      }
      return rule({ inputs: savedInputs ?? inputs, output: savedOutput ?? output, dy, attrs });
    },
    release() {
      isReleased = true;
      savedInputs?.forEach((t) => t.dispose());
      savedOutput?.dispose();
      savedInputs = null;
      savedOutput = null;
    },
  };
}

function aliasLike(t: Tensor): Tensor {
  const alias = Tensor.alias(t);
  alias.requiresGrad = t.requiresGrad;
  return alias;
}
