import { keep, tidy } from "../memory/scope.ts";
import { add } from "../ops/elementwise/elementwise_ops.ts";
import { onesLike } from "../ops/creation/creation.ts";
import { sumToShape } from "../ops/reduce/sum_to_shape.ts";
import { ShapeError } from "../tensor/errors.ts";
import { formatShape, shapesEqual } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "./grad_mode.ts";

export interface BackwardOptions {
  /** Keep the graph (and what it saved) for another backward. Default: false. */
  retainGraph?: boolean;
}

/**
 * Reverse-mode differentiation from `root`. In three steps, like micrograd: collect the graph
 * behind `root`, order it (reverse creation order is a topological order, since an op's output is
 * always created after its inputs), and walk it backwards from a seed gradient, summing each
 * gradient down to its input's shape. Leaves that require grad accumulate into `.grad`.
 *
 * @example
 * ```ts
 * const w = tensor([2, 3]); w.requiresGrad = true;
 * backward(sum(mul(w, w)));
 * console.log(await w.grad!.toArray()); // Float32Array [4, 6]
 * ```
 */
export function backward(root: Tensor, seed?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error(`Cannot run backward from ${root}: it does not require grad (no input had requiresGrad = true)`);
  }
  if (!seed && root.size !== 1) {
    throw new ShapeError(
      "backward",
      [root.shape],
      `Cannot run backward from a tensor of shape ${formatShape(root.shape)} without a gradient: only one-element tensors get an implicit gradient of 1`,
    );
  }
  if (seed && !shapesEqual(seed.shape, root.shape)) {
    throw new ShapeError(
      "backward",
      [root.shape, seed.shape],
      `Cannot run backward: gradient shape ${formatShape(seed.shape)} differs from the output's ${formatShape(root.shape)}`,
    );
  }
  const order = collectGraph(root);
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, keep(seed ? noGrad(() => add(seed, 0)) : onesLike(root)));

  noGrad(() => {
    for (const tensor of order) {
      const grad = grads.get(tensor);
      if (!grad) continue;
      grads.delete(tensor);
      const node = tensor.gradNode;
      if (!node) {
        accumulateLeaf(tensor, grad);
        continue;
      }
      const inputGrads = tidy(() => {
        const raw = node.backward(grad);
        const used = new Set<Tensor>([grad]);
        return node.inputs.map((input, i) => {
          let g = raw[i];
          if (!g || !input.requiresGrad) return null;
          if (!shapesEqual(g.shape, input.shape)) g = sumToShape(g, input.shape);
          // a rule may pass dy through or return one tensor for two inputs (add): give each
          // input its own handle so each can be disposed independently
          if (used.has(g)) return Tensor.alias(g);
          used.add(g);
          return g;
        });
      });
      grad.dispose();
      node.inputs.forEach((input, i) => {
        const g = inputGrads[i];
        if (!g) return;
        keep(g);
        const previous = grads.get(input);
        if (previous) {
          grads.set(input, keep(add(previous, g)));
          previous.dispose();
          g.dispose();
        } else {
          grads.set(input, g);
        }
      });
      if (!options.retainGraph) node.release();
    }
  });
}

function accumulateLeaf(leaf: Tensor, grad: Tensor): void {
  if (!leaf.grad) {
    leaf.grad = grad;
    return;
  }
  const sum = keep(add(leaf.grad, grad));
  leaf.grad.dispose();
  grad.dispose();
  leaf.grad = sum;
}

/** Tensors that gradients flow through, newest first. */
function collectGraph(root: Tensor): Tensor[] {
  const seen = new Set<Tensor>();
  const stack = [root];
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    if (seen.has(tensor) || !tensor.requiresGrad) continue;
    seen.add(tensor);
    if (tensor.gradNode) stack.push(...tensor.gradNode.inputs);
  }
  return [...seen].sort((a, b) => b.id - a.id);
}

/**
 * Frees a graph that will not be differentiated (what `backward` does as it goes). Use it when a
 * forward pass with trainable inputs is abandoned without calling backward.
 */
export function releaseGraph(root: Tensor): void {
  for (const tensor of collectGraph(root)) tensor.gradNode?.release();
}

/** A tensor sharing `x`'s data but cut from the graph (like `x.detach()`). */
export function detach(x: Tensor): Tensor {
  return x.view(...x.shape);
}
