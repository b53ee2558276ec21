import { ShapeError } from "../../tensor/errors.ts";
import { formatShape } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { padInto } from "./pad_into.ts";
import { type SliceSpec, sliceAxes } from "./slice.ts";

/**
 * Constant padding, like `torch.nn.functional.pad(x, pads, value=value)`: `pads` lists
 * (before, after) pairs starting from the LAST dimension — `[left, right]` pads the width,
 * `[left, right, top, bottom]` width and height, and so on. Negative amounts crop. One pass (a
 * strided slice first only when something is cropped).
 * Gradient: the slice of dy where x went.
 *
 * @example
 * ```ts
 * // SD's VAE downsampler pads right and bottom by one before its stride-2 conv
 * pad(zeros([1, 3, 8, 8]), [0, 1, 0, 1]).shape; // [1, 3, 9, 9]
 * ```
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim || !pads.every(Number.isInteger)) {
    throw new ShapeError(
      "pad",
      [x.shape],
      `Cannot pad ${formatShape(x.shape)} by [${pads.join(", ")}]: it needs (before, after) integer pairs for at most ${x.ndim} dimensions`,
    );
  }
  const before = x.shape.map(() => 0);
  const after = x.shape.map(() => 0);
  for (let pair = 0; pair < pads.length / 2; pair++) {
    const axis = x.ndim - 1 - pair;
    before[axis] = pads[2 * pair];
    after[axis] = pads[2 * pair + 1];
  }
  const outShape = x.shape.map((dim, a) => dim + before[a] + after[a]);
  if (outShape.some((dim) => dim < 0)) {
    throw new ShapeError(
      "pad",
      [x.shape],
      `Cannot pad ${formatShape(x.shape)} by [${pads.join(", ")}]: the result ${formatShape(outShape)} has a negative size`,
    );
  }
  // 1. crop where an amount is negative
  const crops: SliceSpec[] = [];
  x.shape.forEach((dim, axis) => {
    if (before[axis] < 0 || after[axis] < 0) {
      const start = Math.max(0, -before[axis]);
      // never below start: a negative end would count from the back, Python style
      const end = Math.max(start, dim - Math.max(0, -after[axis]));
      crops.push({ axis, start, end });
    }
  });
  const cropped = crops.length > 0 ? sliceAxes(x, crops) : x;
  // 2. place the rest at the positive offsets
  try {
    return padInto(cropped, { shape: outShape, starts: before.map((b) => Math.max(b, 0)), value });
  } finally {
    if (cropped !== x) cropped.dispose();
  }
}
