import { add, concat, logSoftmax, mean, mul, neg, reshape, sum, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";

/**
 * PickScore's criterion as SPO's SPM training uses it (`in_batch_negatives = False`): for each pair,
 * cross-entropy of softmax([s_A, s_B]) against the soft label (p, 1 − p), plus p·ln p + (1 − p)·ln(1 − p)
 * so that the ideal loss is 0 (for a tie, p = 0.5, this is SPO's +ln 0.5 offset; for 1 / 0 it is 0).
 * Averaged over pairs (SPO's per-example weights, 1/examples-per-prompt normalised to sum 1, are
 * uniform when each prompt appears once). Differentiable in the scores.
 *
 * @example
 * ```ts
 * preferenceLoss(tensor([20.1]), tensor([19.3]), [1]); // −log σ(0.8) ≈ 0.371
 * ```
 */
export function preferenceLoss(scoresA: Tensor, scoresB: Tensor, labels: readonly number[]): Tensor {
  const count = labels.length;
  return tidy(() => {
    const logits = concat([reshape(scoresA, [count, 1]), reshape(scoresB, [count, 1])], 1);
    const logProbabilities = logSoftmax(logits, -1);
    const targets = tensor(Float32Array.from(labels.flatMap((p) => [p, 1 - p])), [count, 2], { device: scoresA.device });
    const offsets = tensor(Float32Array.from(labels.map((p) => xLogX(p) + xLogX(1 - p))), [count], { device: scoresA.device });
    const crossEntropy = neg(sum(mul(targets, logProbabilities), [-1]));
    return mean(add(crossEntropy, offsets));
  });
}

function xLogX(p: number): number {
  return p > 0 ? p * Math.log(p) : 0;
}
