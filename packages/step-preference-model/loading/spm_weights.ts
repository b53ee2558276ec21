import {
  type LoadReport,
  loadTensorInto,
  loadWeights,
  type Module,
  mul,
  noGrad,
  randn,
  StateDictError,
  type Tensor,
  tidy,
  cast,
  type WeightSource,
  zeros,
} from "@spo/wgpu-tensor";
import { CheckpointArchitectureError } from "../errors.ts";
import type { StepPreferenceModel } from "../model/step_preference_model.ts";

/** The trainer's wrapper module adds this prefix to every key of the published checkpoints. */
export const SPM_CHECKPOINT_PREFIX = "model.";

/** Options of the weight loaders. */
export interface SpmLoadOptions {
  /** Prefix of the model's keys in the source. Default: detected (`model.` or none). */
  prefix?: string;
  /** Fail before reading any tensor data on missing, unexpected or mis-shaped keys. Default true. */
  strict?: boolean;
  onProgress?: (loaded: number, total: number, name: string) => void;
}

/** Buffers that older transformers checkpoints carry and the model recomputes. */
function isIgnoredBuffer(name: string): boolean {
  return name.endsWith("embeddings.position_ids");
}

/** Parameters a plain CLIP / PickScore checkpoint lacks: the time conditioning. */
export function isTimeConditioningParameter(name: string): boolean {
  return name.startsWith("t_embedder.") || name.includes("adaLN_modulation.");
}

function detectPrefix(source: WeightSource, prefix: string | undefined): string {
  if (prefix !== undefined) return prefix;
  if (source.has("logit_scale") || source.has("vision_model.post_layernorm.weight")) return "";
  return source.names.some((name) => name.startsWith(SPM_CHECKPOINT_PREFIX)) ? SPM_CHECKPOINT_PREFIX : "";
}

/** What the source holds under the prefix, by kind, for the architecture check. */
function survey(source: WeightSource, prefix: string) {
  const own = source.names.filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length));
  return {
    own,
    hasVision: own.some((name) => name.startsWith("vision_model.")),
    hasText: own.some((name) => name.startsWith("text_model.")),
    hasTimeConditioning: own.some(isTimeConditioningParameter),
  };
}

function describeSource(source: WeightSource): string {
  const sample = source.names
    .slice(0, 3)
    .map((n) => `"${n}"`)
    .join(", ");
  return `${source.names.length} tensors (${sample}${source.names.length > 3 ? ", …" : ""})`;
}

/** Names, shapes and roles checked from the source's header only; throws a typed error, reads no data. */
function checkArchitecture(model: StepPreferenceModel, source: WeightSource, prefix: string, expectTimeConditioning: boolean): void {
  const found = survey(source, prefix);
  if (!found.hasVision || !found.hasText) {
    throw new CheckpointArchitectureError(
      `Cannot load a step-aware preference model from ${describeSource(source)}: it has no CLIP ${found.hasVision ? "text" : "vision"} tower under the prefix "${prefix}"`,
    );
  }
  if (expectTimeConditioning && !found.hasTimeConditioning) {
    throw new CheckpointArchitectureError(
      "Cannot load a step-aware preference model from a plain CLIP checkpoint (no adaLN_modulation or t_embedder tensors): use initStepPreferenceModelFromClip to start one from it",
    );
  }
  if (!model.isTimeConditioned && found.hasTimeConditioning) {
    throw new CheckpointArchitectureError(
      "Cannot load a time-conditioned checkpoint into a step-agnostic model: build the model with isTimeConditioned true",
    );
  }
}

/** Missing / unexpected / mis-shaped keys from the header; `isOptional` parameters may be missing. */
function headerReport(model: Module, source: WeightSource, prefix: string, isOptional: (name: string) => boolean): LoadReport {
  const report: LoadReport = { missing: [], unexpected: [], mismatched: [], loaded: [] };
  const targets = model.stateDict();
  for (const [name, target] of targets) {
    const fileName = prefix + name;
    if (!source.has(fileName)) {
      if (!isOptional(name)) report.missing.push(name);
      continue;
    }
    const shape = source.info(fileName).shape;
    if (shape.length !== target.shape.length || shape.some((d, i) => d !== target.shape[i])) {
      report.mismatched.push({ name, expected: [...target.shape], got: [...shape] });
    }
  }
  for (const fileName of source.names) {
    if (!fileName.startsWith(prefix) || isIgnoredBuffer(fileName)) continue;
    if (!targets.has(fileName.slice(prefix.length))) report.unexpected.push(fileName);
  }
  return report;
}

/**
 * Loads a step-aware preference model (or the step-agnostic one) from any tensor source with the
 * safetensors reader interface (`names`, `has`, `info`, `float32`): a safetensors file in Node, a
 * URL or blob in browsers, a PyTorch `.bin` through a reader of the same shape. Keys may carry the
 * trainer's `model.` prefix (the published `sd-v1-5_step-aware_preference_model`). The architecture
 * and a strict missing / unexpected / mis-shaped report are checked from the header before any data
 * is read; tensors are then streamed one by one (F16/BF16 converted, f16 parameters kept f16).
 *
 * @example
 * ```ts
 * const model = StepPreferenceModel.fromConfig(VIT_H_14_CONFIG, { init: "meta" });
 * await loadStepPreferenceWeights(model, await readSafetensorsFile("sd-v1-5_step-aware_preference_model.safetensors"));
 * ```
 */
export async function loadStepPreferenceWeights(
  model: StepPreferenceModel,
  source: WeightSource,
  options: SpmLoadOptions = {},
): Promise<LoadReport> {
  const prefix = detectPrefix(source, options.prefix);
  checkArchitecture(model, source, prefix, model.isTimeConditioned);
  const report = headerReport(model, source, prefix, () => false);
  const isClean = report.missing.length + report.unexpected.length + report.mismatched.length === 0;
  if ((options.strict ?? true) && !isClean) throw new StateDictError(report);
  const isRelevant = (name: string) => name.startsWith(prefix) && !isIgnoredBuffer(name);
  return await loadWeights(model, source, {
    strict: false,
    fileNameOf: (name) => prefix + name,
    isRelevant,
    onProgress: options.onProgress,
  });
}

/** Options of `initStepPreferenceModelFromClip`. */
export interface SpmInitOptions extends SpmLoadOptions {
  /** Seed of the t_embedder's N(0, 0.02) weights. Default 0. */
  seed?: number;
}

/**
 * Starts a step-aware preference model from a plain CLIP / PickScore checkpoint, as SPO's trainer
 * does: every CLIP tensor is loaded (strictly: only the time-conditioning parameters may be
 * absent), then `initAdaLNParameters` makes the model score exactly like the CLIP at every timestep.
 *
 * @example
 * ```ts
 * const model = StepPreferenceModel.fromConfig(pickScoreConfig, { init: "meta" });
 * await initStepPreferenceModelFromClip(model, await readSafetensorsFile("PickScore_v1/model.safetensors"));
 * ```
 */
export async function initStepPreferenceModelFromClip(
  model: StepPreferenceModel,
  source: WeightSource,
  options: SpmInitOptions = {},
): Promise<LoadReport> {
  const prefix = detectPrefix(source, options.prefix);
  checkArchitecture(model, source, prefix, false);
  const report = headerReport(model, source, prefix, isTimeConditioningParameter);
  const isClean = report.missing.length + report.unexpected.length + report.mismatched.length === 0;
  if ((options.strict ?? true) && !isClean) throw new StateDictError(report);
  const isRelevant = (name: string) => name.startsWith(prefix) && !isIgnoredBuffer(name);
  const loaded = await loadWeights(model, source, {
    strict: false,
    fileNameOf: (name) => prefix + name,
    isRelevant,
    onProgress: options.onProgress,
  });
  initAdaLNParameters(model, { seed: options.seed });
  return { ...loaded, missing: loaded.missing.filter((name) => !isTimeConditioningParameter(name)) };
}

function fill(target: Tensor, make: () => Tensor): void {
  noGrad(() => {
    const value = tidy(() => {
      const made = make();
      return made.dtype === target.dtype ? made : cast(made, target.dtype);
    });
    loadTensorInto(target, value);
    value.dispose();
  });
}

/**
 * SPO's `init_adaln_paras`: every adaLN weight 0; per-layer adaLN biases 0 except the gate chunks
 * (2 and 5 of shift/scale/gate × 2), which are 1; the final adaLN bias 0; the t_embedder's weights
 * N(0, 0.02) and biases 0. With these, every layer is the plain CLIP layer and the pooled output is
 * unmodulated, whatever the timestep.
 *
 * @example
 * ```ts
 * initAdaLNParameters(model, { seed: 1 }); // now model scores like its CLIP at any t
 * ```
 */
export function initAdaLNParameters(model: StepPreferenceModel, options: { seed?: number } = {}): void {
  if (!model.isTimeConditioned) throw new TypeError("Cannot initialise adaLN parameters: this step-agnostic model has none");
  const device = model.logit_scale.device;
  let stream = 0;
  for (const [name, parameter] of model.namedParameters()) {
    if (!isTimeConditioningParameter(name)) continue;
    const shape = parameter.shape;
    if (name.startsWith("t_embedder.") && name.endsWith(".weight")) {
      const offset = stream++;
      fill(parameter, () => mul(randn(shape, { seed: options.seed ?? 0, offset: offset * 1_000_003, device }), 0.02));
    } else if (/^vision_model\.encoder\.layers\.\d+\.adaLN_modulation\.1\.bias$/.test(name)) {
      const hidden = shape[0] / 6;
      const values = new Float32Array(shape[0]);
      values.fill(1, 2 * hidden, 3 * hidden);
      values.fill(1, 5 * hidden, 6 * hidden);
      loadTensorInto(parameter, { shape, data: values });
    } else {
      fill(parameter, () => zeros(shape, { device }));
    }
  }
}
