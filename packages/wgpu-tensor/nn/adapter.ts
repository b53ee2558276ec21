import type { Tensor } from "../tensor/tensor.ts";

/**
 * A branch on a layer's output, such as a LoRA: the layer computes its own output `y = base(x)`,
 * then hands it to each adapter in turn, `y ← adapter.apply(x, y)`. Adapters live beside the
 * layer's parameters, not among them, so the layer's checkpoint names and state dict are the
 * same with or without adapters; whoever attaches an adapter owns its parameters.
 *
 * @example
 * ```ts
 * const layer = new Linear(4, 2);
 * layer.adapters.set("double", { apply: (_x, y) => mul(y, 2) });
 * layer.forward(x); // 2·(x·Wᵀ + b)
 * layer.adapters.delete("double");
 * ```
 */
export interface LayerAdapter {
  /**
   * The adapted output for input `x`, given the output `y` of the layer and of the adapters
   * before this one. Return `y` itself to contribute nothing (a disabled adapter).
   */
  apply(x: Tensor, y: Tensor): Tensor;
}

/**
 * Runs a layer's adapters in insertion order over its base output `y`. Outputs replaced by a
 * later adapter are intermediates of this call and are freed at once (autograd keeps its own
 * handles on what backward needs).
 *
 * @example
 * ```ts
 * const y = applyAdapters(layer.adapters, x, linear(x, layer.weight, layer.bias ?? undefined));
 * ```
 */
export function applyAdapters(adapters: ReadonlyMap<string, LayerAdapter>, x: Tensor, y: Tensor): Tensor {
  let out = y;
  for (const adapter of adapters.values()) {
    const next = adapter.apply(x, out);
    if (next !== out && out !== x) out.dispose();
    out = next;
  }
  return out;
}
