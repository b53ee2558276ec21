/**
 * A small procedural text-to-image world with an exact reward, so SPO can be run and measured on a
 * CPU in minutes: prompts from a grammar ("a small red circle left of a large blue square on a
 * white background"), a seeded anti-aliased renderer, a held-out split of colour–shape pairs never
 * seen in training, the reward (prompt adherence + an aesthetic term), and a batched sampler for
 * the tiny pretrained base model (`@spo/toyworld/node` loads it).
 *
 * @example
 * ```ts
 * import { parsePrompt, renderScene, reward } from "@spo/toyworld";
 * const prompt = "a large red circle in the center on a white background";
 * const image = renderScene(parsePrompt(prompt), { seed: 1 }); // CHW floats in [−1, 1], 3·16·16
 * reward(image, prompt); // ≈ 0.9
 * ```
 * @module
 */
export {
  BACKGROUND_NAMES,
  type Background,
  BACKGROUNDS,
  type Colour,
  COLOUR_NAMES,
  COLOURS,
  JITTER,
  PAIR_SEPARATION,
  type Position,
  POSITION_NAMES,
  POSITIONS,
  type Relation,
  RELATION_NAMES,
  RELATIONS,
  type Shape,
  SHAPES,
  type Size,
  SIZE_NAMES,
  SIZES,
} from "./world/vocabulary.ts";
export { type Scene, type SceneObject, sceneObjects } from "./world/scene.ts";
export { allObjects, allScenes, formatPrompt } from "./world/grammar.ts";
export { parsePrompt } from "./world/parser.ts";
export { MalformedPromptError, PromptParseError, UnknownWordError } from "./world/errors.ts";
export { HELD_OUT_PAIRS, isHeldOut, sampleScenes, type SampleScenesOptions, scenesOf, type Split } from "./world/split.ts";
export { colourRgb, jitteredLayout, nominalLayout, type PlacedObject } from "./world/layout.ts";
export { drawLayout, IMAGE_SIZE, renderPrompt, type RenderOptions, renderScene } from "./world/render.ts";
export { insideShape, pixelCoverage, shapeCoverage, SUPERSAMPLING } from "./world/shapes.ts";
export { WorldRandom } from "./world/rng.ts";
export { type WorldBatch, worldBatch } from "./world/dataset.ts";
export { imageGrid } from "./world/image_grid.ts";
export {
  clampImage,
  type ObjectScore,
  reward,
  rewardBatch,
  REWARD_CONSTANTS,
  rewardDetails,
  type RewardDetails,
  type RewardOptions,
} from "./reward/reward.ts";
export { RewardInputError } from "./reward/errors.ts";
export { colourMembership, colourPurity } from "./reward/membership.ts";
export { type FitCalibration, fitCalibration } from "./reward/calibration.ts";
export { bestFit, refinedFit, type ShapeFit, type Template, TEMPLATE_SIZES, templatesFor } from "./reward/templates.ts";
export { meanWithInterval, type MeanWithInterval } from "./reward/statistics.ts";
export { TOY_MODEL_INDEX, TOY_SCHEDULER_CONFIG, TOY_TEXT_ENCODER_CONFIG, TOY_UNET_CONFIG } from "./model/toy_configs.ts";
export { sampleToyImages, type SampleToyOptions, type ToyModel, toyPromptEncoder } from "./model/toy_sampler.ts";
export {
  checkTrainingPrompts,
  HeldOutLeakError,
  heldOutEvaluation,
  type HeldOutEvaluationOptions,
  type ToyEvaluationSet,
  trainingPrompts,
} from "./finetune/evaluation_set.ts";
export { type EvaluateToyOptions, evaluateToyModel, type ToyEvaluation } from "./finetune/evaluate.ts";
export { exactRewardScorer } from "./finetune/exact_reward_scorer.ts";
export { fineTuneToySpo, TOY_SPO_DEFAULTS, type ToyFineTuneOptions, type ToyFineTuneResult } from "./finetune/fine_tune.ts";
export { TOY_SPM_CONFIG, type ToySpmKind } from "./spm/toy_spm_config.ts";
export { memoisedDenoiser, type ToyDenoiserOptions, toyStepDenoiser } from "./spm/toy_denoiser.ts";
export {
  type HostPairs,
  nearMiss,
  pairBatch,
  preferenceLabel,
  renderedPairs,
  type RenderedPairsOptions,
  sampledPairs,
  TIE_MARGIN,
} from "./spm/preference_pairs.ts";
export { type ContrastiveOptions, initTextTower, trainContrastive } from "./spm/contrastive_stage.ts";
export { type BaseSampling, baseSamples } from "./spm/base_samples.ts";
