/**
 * The runs of the experiment (issue 15) as data: the base model, SPO with the paper's recipe on the
 * toy world, Diffusion-DPO, and SPO's ablations, each differing from SPO in one setting.
 *
 * With the toy model's 10 DDIM steps ("leading" spacing, offset 1: t = 901, 801, …, 1), branching
 * from step 2 trains the steps with t ≤ 701, the counterpart of the paper's step 4 of 20 (t ≤ 751):
 * the later steps, t ≤ 750. "All steps" branches from step 0 (t ≤ 901).
 *
 * @module
 */

import type { SpoTrainConfig } from "@spo/trainer";

/** Which scorer an SPO run uses. */
export type VariantScorer = "step-aware" | "step-agnostic" | "exact";

/** One run of the table. */
export interface ExperimentVariant {
  /** Short id (file names, `--variants`). */
  id: string;
  /** Row label. */
  label: string;
  /** What differs from SPO. */
  differs: string;
  method: "base" | "spo" | "diffusion-dpo";
  /** SPO's scorer (SPO runs only). */
  scorer?: VariantScorer;
  /** Settings over the toy SPO defaults. */
  config?: Partial<SpoTrainConfig>;
}

/** SPO's recipe on the toy world (over `TOY_SPO_DEFAULTS`): pool 4, random resampler, threshold 0.3, t ≤ 750. */
export const SPO_RECIPE: Readonly<Partial<SpoTrainConfig>> = Object.freeze({
  poolSize: 4,
  greedy: false,
  threshold: 0.3,
  divertStartStep: 2,
});

/** The rows, in the order they run (SPO before Diffusion-DPO, whose budget is SPO's compute). */
export const EXPERIMENT_VARIANTS: readonly ExperimentVariant[] = Object.freeze([
  { id: "base", label: "base", differs: "no fine-tuning", method: "base" },
  {
    id: "spo",
    label: "SPO",
    differs: "the paper's recipe: toy SPM, random resampler, k = 4, threshold 0.3, t ≤ 750",
    method: "spo",
    scorer: "step-aware",
    config: { ...SPO_RECIPE },
  },
  {
    id: "dpo",
    label: "Diffusion-DPO",
    differs: "offline pairs of base-model samples labelled by the exact reward, β = 5000, random t; at least SPO's compute",
    method: "diffusion-dpo",
  },
  {
    id: "spo-exact",
    label: "SPO, exact-reward scorer",
    differs:
      "the exact reward of each x̂₀ in place of the SPM (an oracle, not in the paper: separates SPO's sampling and loss from the scorer's quality)",
    method: "spo",
    scorer: "exact",
    config: { ...SPO_RECIPE },
  },
  {
    id: "agnostic",
    label: "SPO, step-agnostic scorer",
    differs: "step-agnostic toy scorer in place of the SPM",
    method: "spo",
    scorer: "step-agnostic",
    config: { ...SPO_RECIPE },
  },
  {
    id: "greedy",
    label: "SPO, greedy resampler",
    differs: "the best child becomes the next parent",
    method: "spo",
    scorer: "step-aware",
    config: { ...SPO_RECIPE, greedy: true },
  },
  { id: "k2", label: "SPO, k = 2", differs: "pool of 2", method: "spo", scorer: "step-aware", config: { ...SPO_RECIPE, poolSize: 2 } },
  { id: "k8", label: "SPO, k = 8", differs: "pool of 8", method: "spo", scorer: "step-aware", config: { ...SPO_RECIPE, poolSize: 8 } },
  {
    id: "all-steps",
    label: "SPO, all steps",
    differs: "branching from step 0 (t ≤ 901)",
    method: "spo",
    scorer: "step-aware",
    config: { ...SPO_RECIPE, divertStartStep: 0 },
  },
] satisfies ExperimentVariant[]);

/** The variants named in `ids` (all when empty), in table order; unknown ids throw. */
export function selectVariants(ids: readonly string[]): ExperimentVariant[] {
  const known = new Set(EXPERIMENT_VARIANTS.map((v) => v.id));
  for (const id of ids) if (!known.has(id)) throw new RangeError(`Unknown experiment variant "${id}"; known: ${[...known].join(", ")}`);
  return ids.length === 0 ? [...EXPERIMENT_VARIANTS] : EXPERIMENT_VARIANTS.filter((v) => ids.includes(v.id));
}
