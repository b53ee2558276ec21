import { groupNorm } from "@spo/wgpu-tensor";
import type * as TfCore from "@tensorflow/tfjs-core";
import type { BenchCase } from "../harness/bench_case.ts";
import { peerOf, type SharedInput, sharedInput } from "../harness/inputs.ts";
import { pairedRun } from "../harness/paired_run.ts";
import type { Tf } from "../harness/tfjs_side.ts";

const SHAPE = [1, 320, 64, 64];
const SIZE = SHAPE.reduce((a, b) => a * b, 1);
const GROUPS = 32;
const EPS = 1e-5;

/** GroupNorm composed from tfjs ops, as a tfjs user would write it: reshape → moments → normalise → affine. */
function peerGroupNorm(tf: Tf, x: SharedInput, weight: SharedInput, bias: SharedInput, withSilu: boolean): TfCore.Tensor {
  const [n, c, h, w] = SHAPE;
  const grouped = tf.reshape(peerOf(x), [n, GROUPS, (c / GROUPS) * h * w]);
  const { mean, variance } = tf.moments(grouped, 2, true);
  const normalised = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, EPS))), SHAPE);
  const y = tf.add(tf.mul(normalised, tf.reshape(peerOf(weight), [1, c, 1, 1])), tf.reshape(peerOf(bias), [1, c, 1, 1]));
  return withSilu ? tf.mul(y, tf.sigmoid(y)) : y;
}

function groupNormCase(withSilu: boolean): BenchCase {
  return {
    name: `GroupNorm(32)${withSilu ? "+SiLU" : ""} 1×320×64×64`,
    group: "norm",
    bytes: 2 * SIZE * 4, // x read once, y written once (ours reads x twice: statistics, then normalise)
    setup(context) {
      const x = sharedInput(context.device, context.peer, 11, SHAPE, { low: -2, high: 3 });
      const weight = sharedInput(context.device, context.peer, 12, [320], { low: 0.5, high: 1.5 });
      const bias = sharedInput(context.device, context.peer, 13, [320]);
      const activation = withSilu ? "silu" : "none";
      return pairedRun(
        context,
        [x, weight, bias],
        () => groupNorm(x.ours, GROUPS, weight.ours, bias.ours, { eps: EPS, activation }),
        (tf) => peerGroupNorm(tf, x, weight, bias, withSilu),
      );
    },
  };
}

/** GroupNorm(32) over SD1.5's first-level feature map, alone and fused with SiLU (ResNet blocks). */
export const normCases: BenchCase[] = [groupNormCase(false), groupNormCase(true)];
