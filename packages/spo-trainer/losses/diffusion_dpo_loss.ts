/**
 * The Diffusion-DPO baseline (Wallace et al., SalesforceAIResearch/DiffusionDPO train.py): offline
 * image pairs forward-noised at a random t, and the MSE surrogate of the log-likelihood ratio
 *
 *   L = −log σ(−½·β·[(mse_θ^w − mse_ref^w) − (mse_θ^l − mse_ref^l)]),  β = 5000,
 *
 * with mse the per-sample mean of (ε̂ − ε)² over all non-batch dimensions. No CFG in the loss.
 *
 * @module
 */

import { abs, add, exp, log, mean, minimum, mul, neg, square, sub, type Tensor, tidy } from "@spo/wgpu-tensor";

export interface DiffusionDpoLossInputs {
  /** Policy ε̂ for the winner's and the loser's noisy latents ([B, …] each). */
  policyWin: Tensor;
  policyLose: Tensor;
  /** Reference ε̂ (LoRA off), constants. */
  refWin: Tensor;
  refLose: Tensor;
  /** The training target of the winner and the loser: the added noise (ε-prediction), v or the clean latents (`trainingTarget`). */
  noiseWin: Tensor;
  noiseLose: Tensor;
}

export interface DiffusionDpoLossOutput {
  loss: Tensor;
  /** ½·β·… inside the sigmoid, per row (positive means the policy prefers the winner more than the reference does). */
  margin: Tensor;
  /** Implicit accuracy: the fraction of rows with a positive margin is logged by the trainer. */
  mseWin: Tensor;
  mseLose: Tensor;
}

export const DIFFUSION_DPO_DEFAULTS = { beta: 5000 } as const;

/** log σ(x) = min(x, 0) − log(1 + e^{−|x|}), finite for any x (β = 5000 saturates a plain σ). */
export function logSigmoid(x: Tensor): Tensor {
  return tidy(() => sub(minimum(x, 0), log(add(exp(neg(abs(x))), 1))));
}

/**
 * Diffusion-DPO's loss. The caller disposes the outputs.
 *
 * @example
 * ```ts
 * const { loss } = diffusionDpoLoss({ policyWin, policyLose, refWin, refLose, noiseWin, noiseLose });
 * ```
 */
export function diffusionDpoLoss(inputs: DiffusionDpoLossInputs, options: { beta?: number } = {}): DiffusionDpoLossOutput {
  const beta = options.beta ?? DIFFUSION_DPO_DEFAULTS.beta;
  if (!(beta > 0)) throw new RangeError(`Cannot compute the Diffusion-DPO loss with beta ${beta}: it must be > 0`);
  return tidy(() => {
    const mse = (pred: Tensor, target: Tensor) =>
      mean(
        square(sub(pred, target)),
        Array.from({ length: pred.ndim - 1 }, (_, i) => i + 1),
      );
    const mseWin = mse(inputs.policyWin, inputs.noiseWin);
    const mseLose = mse(inputs.policyLose, inputs.noiseLose);
    const refWin = mse(inputs.refWin, inputs.noiseWin);
    const refLose = mse(inputs.refLose, inputs.noiseLose);
    const diff = sub(sub(mseWin, refWin), sub(mseLose, refLose));
    const margin = mul(diff, -0.5 * beta);
    const loss = mean(neg(logSigmoid(margin)));
    return { loss, margin, mseWin, mseLose };
  });
}
