/**
 * Every output of a `spo_logprob_loss` oracle case (shared/fixtures/oracle/README.md) from its
 * manifest and input tensors, through this package's public functions: the DDIM η = 1 transition
 * log-prob (`logprob.*`), the clipped DPO loss with its gradient w.r.t. the policy's unconditional
 * and text ε (`loss.*`), and the pair selection (`compare.*`). Used by `npm run parity`.
 *
 * @module
 */

import { classifierFreeGuidance, DDIMScheduler } from "@spo/diffusion-unet";
import { backward, type Device, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";
import { spoLoss } from "../losses/spo_loss.ts";
import { transitionLogProb } from "../losses/transition_log_prob.ts";
import { comparePreferences } from "../sampler/preference_compare.ts";

/** A host tensor of a case: f32 values and a shape. */
export interface SpoParityTensor {
  data: Float32Array;
  shape: number[];
}

/** The manifest fields the case reads. */
export interface SpoParityManifest {
  name: string;
  config: Record<string, unknown>;
  inputs: readonly string[];
  outputs: readonly string[];
}

const SECTIONS = {
  logprob: ["logprob.timesteps", "logprob.model_output", "logprob.sample", "logprob.prev_sample"],
  loss: [
    "loss.timesteps",
    "loss.x_t",
    "loss.x_w",
    "loss.x_l",
    "loss.policy_eps_uncond",
    "loss.policy_eps_text",
    "loss.ref_eps_uncond",
    "loss.ref_eps_text",
  ],
  compare: ["compare.scores"],
} as const;

/** A case input this runner does not understand (the parity runner reports SKIP). */
export class UnsupportedSpoCaseError extends Error {
  override name = "UnsupportedSpoCaseError";
}

function numberOf(config: Record<string, unknown>, key: string, fallback: number): number {
  const value = config[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number")
    throw new TypeError(`Cannot run the spo_logprob_loss case: config.${key} is ${JSON.stringify(value)}, expected a number`);
  return value;
}

/**
 * Computes the outputs of a `spo_logprob_loss` case. Sections whose inputs are absent are skipped.
 *
 * @example
 * ```ts
 * const outputs = await spoLogprobLossParityCase(manifest, tensors); // Map name → { data, shape }
 * ```
 */
export async function spoLogprobLossParityCase(
  manifest: SpoParityManifest,
  tensors: ReadonlyMap<string, SpoParityTensor>,
  options: { device?: Device } = {},
): Promise<Map<string, SpoParityTensor>> {
  const known: readonly string[] = Object.values(SECTIONS).flat();
  const unknown = manifest.inputs.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new UnsupportedSpoCaseError(`inputs ${unknown.join(", ")} are not understood`);
  const config = manifest.config;
  const scheduler = DDIMScheduler.fromConfig(config.scheduler ?? {});
  scheduler.setTimesteps(numberOf(config, "num_inference_steps", 20));
  const eta = numberOf(config, "eta", 1);
  const device = options.device;
  const has = (section: keyof typeof SECTIONS) => SECTIONS[section].every((name) => tensors.has(name));
  const input = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new RangeError(`Cannot run the spo_logprob_loss case ${manifest.name}: input ${name} is missing`);
    return t;
  };
  const gpu = (name: string) => tensor(input(name).data, input(name).shape, { device });
  const steps = (name: string) => Array.from(input(name).data);
  const outputs = new Map<string, SpoParityTensor>();
  const read = async (name: string, t: Tensor) => outputs.set(name, { data: Float32Array.from(await t.toArray()), shape: [...t.shape] });
  const owned: Tensor[] = [];

  try {
    if (has("logprob")) {
      const lp = tidy(() =>
        transitionLogProb(
          scheduler,
          gpu("logprob.model_output"),
          steps("logprob.timesteps"),
          gpu("logprob.sample"),
          gpu("logprob.prev_sample"),
          eta,
        ),
      );
      owned.push(lp);
      await read("logprob.log_prob", lp);
    }
    if (has("loss")) {
      const guidance = numberOf(config, "guidance_scale", 5);
      const policyUncond = gpu("loss.policy_eps_uncond");
      const policyText = gpu("loss.policy_eps_text");
      policyUncond.requiresGrad = true;
      policyText.requiresGrad = true;
      owned.push(policyUncond, policyText);
      const policyEps = classifierFreeGuidance(policyUncond, policyText, guidance);
      const refEps = tidy(() => classifierFreeGuidance(gpu("loss.ref_eps_uncond"), gpu("loss.ref_eps_text"), guidance));
      const sample = gpu("loss.x_t");
      const winner = gpu("loss.x_w");
      const loser = gpu("loss.x_l");
      owned.push(policyEps, refEps, sample, winner, loser);
      const result = spoLoss(
        scheduler,
        { policyEps, refEps, sample, winner, loser, timesteps: steps("loss.timesteps") },
        {
          beta: numberOf(config, "beta", 10),
          clipEps: numberOf(config, "clip_eps", 0.1),
          eta,
        },
      );
      owned.push(...Object.values(result));
      await read("loss.policy_eps", policyEps);
      await read("loss.ref_eps", refEps);
      await read("loss.logp_w", result.logpWin);
      await read("loss.logp_w_ref", result.logpWinRef);
      await read("loss.logp_l", result.logpLose);
      await read("loss.logp_l_ref", result.logpLoseRef);
      await read("loss.ratio_w", result.ratioWin);
      await read("loss.ratio_l", result.ratioLose);
      await read("loss.loss", result.loss);
      backward(result.loss);
      await read("loss.grad_policy_eps_uncond", policyUncond.grad!);
      await read("loss.grad_policy_eps_text", policyText.grad!);
      owned.push(policyUncond.grad!, policyText.grad!);
    }
    if (has("compare")) {
      const scores = input("compare.scores");
      if (scores.shape.length !== 2)
        throw new RangeError(
          `Cannot run the spo_logprob_loss case ${manifest.name}: compare.scores has shape [${scores.shape}], expected [k, batch]`,
        );
      const batch = scores.shape[1];
      const pairs = comparePreferences(scores.data, batch, numberOf(config, "threshold", 0.3));
      const indices = new Float32Array(2 * batch);
      indices.set(pairs.best, 0);
      indices.set(pairs.worst, batch);
      const softmax = new Float32Array(2 * batch);
      softmax.set(pairs.softmaxBest, 0);
      softmax.set(pairs.softmaxWorst, batch);
      outputs.set("compare.indices", { data: indices, shape: [2, batch] });
      outputs.set("compare.valid", { data: Float32Array.from(pairs.valid), shape: [batch] });
      outputs.set("compare.softmax_best_worst", { data: softmax, shape: [2, batch] });
    }
  } finally {
    for (const t of owned) if (!t.isDisposed) t.dispose();
  }
  return outputs;
}
