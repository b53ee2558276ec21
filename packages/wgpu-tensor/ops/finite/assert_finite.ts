import { NonFiniteError } from "../../tensor/errors.ts";
import type { Tensor } from "../../tensor/tensor.ts";

/**
 * Reads `x` back and throws {@link NonFiniteError} naming `stage` if any element is NaN or ±Inf.
 * The check is made on the host, because WGSL lets a compiler assume that no NaN or Inf occurs,
 * so a GPU reduction could miss one; it is meant for small tensors read back anyway (a loss, a
 * gradient norm, the final latents of a generation). Integer tensors are always finite.
 *
 * @example
 * ```ts
 * const norm = clipGradNorm(model.parameters(), 1.0);
 * await assertFinite(norm, "the gradient norm"); // before optimizer.step()
 * ```
 */
export async function assertFinite(x: Tensor, stage: string): Promise<void> {
  if (x.dtype === "i32" || x.dtype === "u32") return;
  const values = (await x.toArray()) as Float32Array;
  let first = -1;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) continue;
    if (first < 0) first = i;
    count++;
  }
  if (first >= 0) throw new NonFiniteError(stage, x.shape, first, values[first]!, count);
}
