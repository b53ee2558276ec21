/**
 * Step-aware Preference Optimization (SPO, arXiv 2406.04314) for diffusion models on WebGPU: the
 * exact DDIM (η = 1) transition log-probability, SPO's clipped DPO loss, pair selection, the pooled
 * sampler with its step-wise resampler, the LoRA training loop with checkpoints and resume, and the
 * Diffusion-DPO baseline on the same code.
 *
 * @example
 * ```ts
 * import { comparePreferences } from "@spo/trainer";
 * const { best, worst, valid } = comparePreferences(Float32Array.of(0.1, 2, 3, 0), 2, 0.3);
 * ```
 * @module
 */
export {
  rowConstant,
  spoPreviousTimestep,
  type TransitionCoefficients,
  transitionCoefficients,
  transitionLogProb,
  type TransitionMean,
  transitionMean,
  type TransitionSchedule,
} from "./losses/transition_log_prob.ts";
export {
  countClamped,
  SPO_LOSS_DEFAULTS,
  spoLoss,
  type SpoLossInputs,
  type SpoLossOptions,
  type SpoLossOutput,
} from "./losses/spo_loss.ts";
export {
  DIFFUSION_DPO_DEFAULTS,
  diffusionDpoLoss,
  type DiffusionDpoLossInputs,
  type DiffusionDpoLossOutput,
  logSigmoid,
} from "./losses/diffusion_dpo_loss.ts";
export {
  type AlphaSchedule,
  checkPredictionType,
  epsilonFromOutput,
  PREDICTION_TYPES,
  type PredictionType,
  PredictionTypeError,
  resolvePredictionType,
  sampleFromOutput,
  trainingTarget,
} from "./losses/prediction_type.ts";
export { asStepScorer, type ScoreFunction, type StepScorer } from "./scoring/step_scorer.ts";
export { guidedEpsilon, type NoisePredictor, type PromptEncoder, repeatRows } from "./sampler/guided_denoiser.ts";
export { type Children, hostRow, type NormalSource, pickChildren, sampleChildren } from "./sampler/children.ts";
export { resampleParents, type UniformSource } from "./sampler/resampler.ts";
export {
  SPO_SAMPLER_DEFAULTS,
  type SpoPair,
  type SpoSampleResult,
  type SpoSamplerModels,
  type SpoSamplerOptions,
  sampleSpoPairs,
} from "./sampler/spo_sampler.ts";
export { comparePreferences, type PreferencePairs, scoreGapThreshold } from "./sampler/preference_compare.ts";
export {
  type SpoParityManifest,
  type SpoParityTensor,
  spoLogprobLossParityCase,
  UnsupportedSpoCaseError,
} from "./parity/spo_logprob_loss_case.ts";
export {
  type CheckpointFiles,
  CheckpointError,
  type CheckpointStore,
  decodeCheckpoint,
  encodeCheckpoint,
  memoryCheckpointStore,
  type TrainingCheckpoint,
  type TrainingProgress,
} from "./checkpoint/training_checkpoint.ts";
export { metricsLine, parseMetricsLines, type UpdateMetrics } from "./metrics/update_metrics.ts";
export { metricsChartSvg } from "./metrics/metrics_chart.ts";
export {
  betaOf,
  resolveTrainConfig,
  SPO_TRAIN_DEFAULTS,
  type SpoTrainConfig,
  TrainConfigError,
  type TrainingMethod,
} from "./training/train_config.ts";
export { minibatches, seededPermutation, stackHost } from "./training/pair_batches.ts";
export { type MinibatchStats, spoMinibatchStep, type SpoStepOptions, type TrainableDenoiser } from "./training/spo_step.ts";
export { diffusionDpoMinibatchStep, type PreferencePair } from "./training/diffusion_dpo_step.ts";
export { sampleImages } from "./training/validation.ts";
export {
  epochOrder,
  SpoTrainer,
  type SpoTrainerModels,
  type SpoTrainerOptions,
  type TrainerUNet,
  TrainingDivergedError,
  type TrainingProgressEvent,
} from "./training/spo_trainer.ts";
export {
  type CaptionEncoder,
  type DiffusionBatch,
  DiffusionTrainingError,
  type DiffusionTrainingProgress,
  type DiffusionTrainingResult,
  trainDiffusionModel,
  type TrainDiffusionOptions,
} from "./diffusion_training/train_diffusion_model.ts";
export { clipPromptEncoder, vaeDecoder } from "./conditioning/sd_components.ts";
