/**
 * One storage binding holds at most `maxStorageBufferBindingSize` bytes (128 MiB on lavapipe and
 * SwiftShader, often 2–4 GiB on discrete GPUs). Kernels bind whole tensors, so an op on a larger
 * tensor is refused here, before any allocation or GPU work, with the way out in the message —
 * instead of a validation error from the GPU after the fact. (Ops that bind windows of a buffer,
 * like embedding and the random fills, run outside `runOp` and are not limited.)
 *
 * @module
 */

import { bytesPerElement } from "../tensor/dtype.ts";
import { formatShape } from "../tensor/shape.ts";
import type { TensorSpec } from "./op_def.ts";

/** A tensor is larger than one storage binding of this adapter. Thrown before any GPU work. */
export class BindingSizeError extends RangeError {
  override name = "BindingSizeError";
  constructor(
    readonly op: string,
    readonly shape: readonly number[],
    readonly bytes: number,
    readonly maxBindingBytes: number,
    message: string,
  ) {
    super(message);
  }
}

const MIB = 2 ** 20;

/**
 * Throws {@link BindingSizeError} when one of `specs` (inputs, then the output) is larger than
 * `maxBindingBytes`.
 *
 * @example
 * ```ts
 * checkBindingSizes("add", [{ shape: [2, 128, 512, 512], dtype: "f32" }], 2 ** 27);
 * // BindingSizeError: Cannot run add on [2, 128, 512, 512] f32 (256 MiB): …
 * ```
 */
export function checkBindingSizes(op: string, specs: readonly TensorSpec[], maxBindingBytes: number, outputIndex = specs.length - 1): void {
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    let bytes = bytesPerElement(spec.dtype);
    for (const dim of spec.shape) bytes *= dim;
    if (bytes <= maxBindingBytes) continue;
    const which = i === outputIndex ? "its output" : `input ${i}`;
    throw new BindingSizeError(
      op,
      spec.shape,
      bytes,
      maxBindingBytes,
      `Cannot run ${op}: ${which} ${formatShape(spec.shape)} ${spec.dtype} is ${(bytes / MIB).toFixed(1)} MiB, more than this adapter ` +
        `binds at once (maxStorageBufferBindingSize ${(maxBindingBytes / MIB).toFixed(1)} MiB). Split the work, e.g. along the batch ` +
        "(decode one image at a time, or tile the VAE), or use an adapter with a higher limit",
    );
  }
}
