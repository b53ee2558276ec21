/**
 * SPO's step-aware preference model (SPM): a CLIP model whose vision tower is conditioned on the
 * diffusion timestep (DiT-style adaLN in every layer and on the pooled output), scoring predicted
 * clean images x̂0 at their timestep against a prompt, PickScore-style. Built on `@spo/clip`;
 * loading from the published checkpoints, starting one from a plain CLIP / PickScore, scoring raw
 * images as SPO does, and training one.
 *
 * Node loaders (`loadStepPreferenceModel`, `loadSpmTokenizer`) are in `@spo/step-preference-model/node`.
 *
 * @example
 * ```ts
 * import { StepPreferenceModel, StepPreferenceScorer } from "@spo/step-preference-model";
 * const model = StepPreferenceModel.fromConfig(clipConfigJson);
 * const scorer = new StepPreferenceScorer(model, tokenizer);
 * const scores = await scorer.score(images, prompts, timesteps); // one score per image
 * ```
 *
 * @module
 */

export { CheckpointArchitectureError, SpmInputError } from "./errors.ts";
export {
  CLIP_IMAGE_MEAN,
  CLIP_IMAGE_STD,
  MAX_TIMESTEP,
  type SpmConfigOptions,
  stepPreferenceConfigFromTransformers,
  type StepPreferenceModelConfig,
  VIT_H_14_CONFIG,
} from "./model/spm_config.ts";
export { TimestepEmbedder, timestepSinusoid } from "./model/timestep_embedder.ts";
export { AdaLNModulation } from "./model/adaln_modulation.ts";
export { TimeConditionedEncoderLayer, TimeConditionedVisionTransformer } from "./model/time_conditioned_vision.ts";
export { type SpmForwardOutput, type SpmImageOutput, StepPreferenceModel } from "./model/step_preference_model.ts";
export { type PreprocessOptions, preprocessImages, resizeGeometry } from "./preprocess/preprocess.ts";
export { type PromptTokenizer, type ScorerOptions, type StepScorer, StepPreferenceScorer } from "./scoring/scorer.ts";
export {
  initAdaLNParameters,
  initStepPreferenceModelFromClip,
  isTimeConditioningParameter,
  SPM_CHECKPOINT_PREFIX,
  type SpmInitOptions,
  type SpmLoadOptions,
  loadStepPreferenceWeights,
} from "./loading/spm_weights.ts";
export {
  checkPairBatch,
  type DenoiseRequest,
  type PairBatch,
  type PairSource,
  type StepDenoiser,
} from "./training/pairs.ts";
export { contrastiveLoss } from "./training/contrastive_loss.ts";
export { preferenceLoss } from "./training/preference_loss.ts";
export {
  pairPixels,
  pairTimesteps,
  type SpmCheckpoint,
  spmCheckpoint,
  type SpmStepInfo,
  type SpmTrainResult,
  type TrainSpmOptions,
  trainStepPreferenceModel,
} from "./training/train.ts";
export { evaluatePairwiseAccuracy, type EvaluateSpmOptions, type PairwiseAccuracy, SPM_EVAL_TIMESTEPS } from "./training/evaluate.ts";
