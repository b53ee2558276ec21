import type * as TfCore from "@tensorflow/tfjs-core";
import type { BenchCase, BenchContext } from "../harness/bench_case.ts";
import { peerOf, sharedInput } from "../harness/inputs.ts";
import { type Conv2dFn, missingReason, optionalOp } from "../harness/optional_ops.ts";
import { pairedRun } from "../harness/paired_run.ts";

// 9·C products of values in [-1, 1]·[-0.05, 0.05]: |y| ~ 1, f32 rounding well below 1e-4
const TOLERANCE = { atol: 1e-4, rtol: 1e-3 };

/**
 * Permutes a 4-D row-major array: output axis i is input axis `order[i]` (NCHW → NHWC is
 * [0, 2, 3, 1]; OIHW → HWIO is [2, 3, 1, 0]).
 */
export function permute4(data: Float32Array, shape: readonly number[], order: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const outShape = order.map((axis) => shape[axis]);
  let o = 0;
  for (let a = 0; a < outShape[0]; a++) {
    for (let b = 0; b < outShape[1]; b++) {
      for (let c = 0; c < outShape[2]; c++) {
        const base = a * strides[order[0]] + b * strides[order[1]] + c * strides[order[2]];
        for (let d = 0; d < outShape[3]; d++) out[o++] = data[base + d * strides[order[3]]];
      }
    }
  }
  return out;
}

/**
 * 3×3 convolution, stride 1, padding 1, with bias: ours NCHW with weight [out, in, 3, 3] as in
 * PyTorch; the peer in its native NHWC with HWIO filters (tf.fused.conv2d with bias, its fast
 * path). The peer's output is permuted back to NCHW on the host for the check only.
 */
function conv2dCase(size: number, channels: number): BenchCase {
  const [h, w, c] = [size, size, channels];
  return {
    name: `conv2d 3×3 ${h}×${w}×${c}→${c}`,
    group: "conv2d",
    flops: 2 * h * w * c * c * 9,
    tolerance: TOLERANCE,
    skipReason: () => missingReason("conv2d"),
    setup(context: BenchContext) {
      const xShape = [1, c, h, w];
      const wShape = [c, c, 3, 3];
      const x = sharedInput(context.device, context.peer, 61, xShape, {
        peerLayout: { shape: [1, h, w, c], rearrange: (data) => permute4(data, xShape, [0, 2, 3, 1]) },
      });
      const weight = sharedInput(context.device, context.peer, 62, wShape, {
        low: -0.05,
        high: 0.05,
        peerLayout: { shape: [3, 3, c, c], rearrange: (data) => permute4(data, wShape, [2, 3, 1, 0]) },
      });
      const bias = sharedInput(context.device, context.peer, 63, [c]);
      const conv2d = optionalOp<Conv2dFn>("conv2d");
      return pairedRun(
        context,
        [x, weight, bias],
        () => conv2d(x.ours, weight.ours, bias.ours, { padding: 1 }),
        (tf) =>
          tf.fused.conv2d({
            x: peerOf(x) as TfCore.Tensor4D,
            filter: peerOf(weight) as TfCore.Tensor4D,
            strides: 1,
            pad: "same",
            bias: peerOf(bias),
          }),
        { toOurs: (data) => permute4(data, [1, h, w, c], [0, 3, 1, 2]) },
      );
    },
  };
}

/** Conv2d 3×3 at SD1.5's first two UNet levels, batch 1. */
export const conv2dCases: BenchCase[] = [conv2dCase(64, 320), conv2dCase(32, 640)];
