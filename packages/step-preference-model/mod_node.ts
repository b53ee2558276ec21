/**
 * Everything of `@spo/step-preference-model`, plus loading from disk in Node: a Hugging Face folder
 * or a single checkpoint file (`loadStepPreferenceModel`), and the checkpoint's tokenizer
 * (`loadSpmTokenizer`).
 *
 * @example
 * ```ts
 * import { loadSpmTokenizer, loadStepPreferenceModel, StepPreferenceScorer } from "@spo/step-preference-model/node";
 * const scorer = new StepPreferenceScorer(await loadStepPreferenceModel(path), await loadSpmTokenizer());
 * ```
 *
 * @module
 */
export * from "./mod.ts";
export { type ClosableWeightSource, loadSpmTokenizer, loadStepPreferenceModel, type SpmFileOptions } from "./loading/spm_loader_node.ts";
export { loadSpmCheckpoint, saveSpmCheckpoint } from "./training/checkpoint_node.ts";
