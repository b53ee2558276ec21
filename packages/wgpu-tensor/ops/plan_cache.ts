import { markStableUniforms } from "../device/pinned_bind_groups.ts";
import type { KernelPlan, KernelProgram } from "./op_def.ts";

/**
 * Kernel plans by a signature of what they depend on (shapes, dtypes, attributes, adapter kind),
 * so an op called again on the same shapes skips planning: for tiny elementwise ops, planning
 * (collapsing dimensions, packing uniforms, building the key) was ~15 µs of a ~40 µs dispatch
 * (benchmarks/probes/dispatch_variants_node.ts). Holds at most `capacity` plans, dropping the
 * oldest first. Plans are shared: nothing may mutate one after it is built, and their parameters
 * are marked stable so the queue can reuse bind groups over them (`device/pinned_bind_groups.ts`).
 *
 * @example
 * ```ts
 * const plans = new PlanCache();
 * const plan = plans.get(`${shape.join(",")}|f32`, () => buildPlan(shape));
 * ```
 */
export class PlanCache<P extends KernelPlan | KernelProgram = KernelPlan | KernelProgram> {
  readonly #plans = new Map<string, P>();
  readonly #capacity: number;

  constructor(capacity = 512) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#plans.size;
  }

  /** The plan for `signature`, built by `build` the first time. */
  get(signature: string, build: () => P): P {
    const cached = this.#plans.get(signature);
    if (cached !== undefined) return cached;
    const plan = build();
    // a cached plan's parameters are reused as they are: the queue may pin them on the GPU
    const passes: readonly KernelPlan[] = "passes" in plan ? plan.passes : [plan];
    for (const pass of passes) markStableUniforms(pass.params);
    if (this.#plans.size >= this.#capacity) {
      // Maps iterate in insertion order: the first key is the oldest
      this.#plans.delete(this.#plans.keys().next().value as string);
    }
    this.#plans.set(signature, plan);
    return plan;
  }
}
