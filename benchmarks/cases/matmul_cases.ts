import type { BenchCase, BenchContext } from "../harness/bench_case.ts";
import { peerOf, sharedInput } from "../harness/inputs.ts";
import { type LinearFn, type MatmulFn, missingReason, optionalOp } from "../harness/optional_ops.ts";
import { pairedRun } from "../harness/paired_run.ts";

// Sums of K products of values in [-1, 1]: |y| ~ √(K/3) ≈ 15 at K = 640, f32 rounding ~1e-6 relative
const TOLERANCE = { atol: 1e-3, rtol: 1e-3 };

/** y = a·b, a [M, K], b [K, N]: the UNet's 1×1 projections (proj_in/out, to_q/k/v/out). */
function matmulCase(m: number, k: number, n: number, note: string): BenchCase {
  return {
    name: `matmul ${m}×${k}×${n}${note}`,
    group: "matmul",
    flops: 2 * m * k * n,
    tolerance: TOLERANCE,
    skipReason: () => missingReason("matmul"),
    setup(context: BenchContext) {
      const a = sharedInput(context.device, context.peer, 51, [m, k]);
      const b = sharedInput(context.device, context.peer, 52, [k, n]);
      const matmul = optionalOp<MatmulFn>("matmul");
      return pairedRun(
        context,
        [a, b],
        () => matmul(a.ours, b.ours),
        (tf) => tf.matMul(peerOf(a), peerOf(b)),
      );
    },
  };
}

/**
 * y = x·wᵀ (+ bias), w in PyTorch's [out, in] layout, read transposed on both sides; the peer gets
 * its fused matMul+bias (tf.fused.matMul), its best path.
 */
function linearCase(m: number, k: number, n: number, hasBias: boolean, note: string): BenchCase {
  return {
    name: `linear ${m}×${k}×${n}${hasBias ? " +bias" : ""}${note}`,
    group: "matmul",
    flops: 2 * m * k * n,
    tolerance: TOLERANCE,
    skipReason: () => missingReason("linear"),
    setup(context: BenchContext) {
      const x = sharedInput(context.device, context.peer, 53, [m, k]);
      const w = sharedInput(context.device, context.peer, 54, [n, k], { low: -0.1, high: 0.1 });
      const bias = hasBias ? sharedInput(context.device, context.peer, 55, [n]) : null;
      const linear = optionalOp<LinearFn>("linear");
      return pairedRun(
        context,
        bias ? [x, w, bias] : [x, w],
        () => linear(x.ours, w.ours, bias?.ours),
        (tf) => tf.fused.matMul({ a: peerOf(x), b: peerOf(w), transposeB: true, bias: bias ? peerOf(bias) : undefined }),
      );
    },
  };
}

/** A LoRA branch: x [4096, 320] · down [320, 4] · up [4, 320], two products. */
function loraCase(): BenchCase {
  const [m, k, r] = [4096, 320, 4];
  return {
    name: `LoRA ${m}×${k}×${r} then ${r}×${k}`,
    group: "matmul",
    flops: 2 * m * k * r * 2,
    tolerance: TOLERANCE,
    skipReason: () => missingReason("matmul"),
    setup(context: BenchContext) {
      const x = sharedInput(context.device, context.peer, 56, [m, k]);
      const down = sharedInput(context.device, context.peer, 57, [k, r]);
      const up = sharedInput(context.device, context.peer, 58, [r, k]);
      const matmul = optionalOp<MatmulFn>("matmul");
      return pairedRun(
        context,
        [x, down, up],
        () => matmul(matmul(x.ours, down.ours), up.ours),
        (tf) => tf.matMul(tf.matMul(peerOf(x), peerOf(down)), peerOf(up)),
      );
    },
  };
}

/** Matmul at SD1.5 UNet shapes (M = tokens at 64×64 or 32×32, batch 1; 77 = text tokens). */
export const matmulCases: BenchCase[] = [
  matmulCase(4096, 320, 320, ""),
  linearCase(4096, 320, 1280, true, ""),
  linearCase(1024, 640, 2560, true, ""),
  linearCase(77, 768, 320, false, " (to_k on text)"),
  loraCase(),
];
