/**
 * Computes every output of a `scheduler` oracle case from its manifest and input tensors, so the
 * parity runner can compare them with the reference values. Everything is driven by the manifest:
 * the class comes from `source`, the scheduler from `config` (or each config variant), the step
 * counts from the output shapes or the description, the fake model from the description.
 * @module
 */
import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
} from "../../../packages/diffusion-unet/mod.ts";
import { add, Device, mul, type Tensor, tensor, tidy } from "../../../packages/wgpu-tensor/mod.ts";
import {
  CaseTensors,
  configVariants,
  descriptionFor,
  etaIn,
  etaOfField,
  fakeModelScaleIn,
  type ParityTensor,
  type SchedulerClassName,
  schedulerClassOf,
  type SchedulerManifest,
  splitOutputName,
  stepCountIn,
} from "./scheduler_manifest.ts";

export type { ParityTensor, SchedulerManifest } from "./scheduler_manifest.ts";

/** One computed output: a shape and float32 values (integers, e.g. timesteps, are exact). */
export interface ParityOutput {
  shape: number[];
  data: Float32Array;
}

/** The outputs of a sampling loop (top level or `traj.*`). */
const TRAJECTORY_FIELDS = ["timesteps", "sigmas", "init_noise_sigma", "samples", "pred_original_samples", "model_inputs"];

type AnyScheduler = DDIMScheduler | DDPMScheduler | EulerAncestralDiscreteScheduler | DPMSolverMultistepScheduler;

/** What one group of outputs needs: the class, its config, the case's inputs and description. */
interface GroupContext {
  className: SchedulerClassName;
  config: Record<string, unknown>;
  inputs: CaseTensors;
  variant: string;
  group: string;
  /** The description's sentences about this group. */
  text: string;
  /** Shapes of the case's tensors, by full name. */
  shapeOf(field: string): readonly number[] | undefined;
  /** Uploads an input tensor (or one row of it) to the case's device. */
  upload(input: ParityTensor, row?: number): Tensor;
}

/**
 * Every output of a `scheduler` case, by output name.
 *
 * @example
 * ```ts
 * const manifest = parseDiffusersJson(await readFile("scheduler_ddim.json", "utf8")) as SchedulerManifest;
 * const outputs = await schedulerParityCase(manifest, tensorsOfTheCaseFile);
 * outputs.get("timesteps_20"); // { shape: [20], data: Float32Array [951, 901, …, 1] }
 * ```
 */
export async function schedulerParityCase(
  manifest: SchedulerManifest,
  tensors: Map<string, ParityTensor>,
  options: { device?: Device } = {},
): Promise<Map<string, ParityOutput>> {
  const className = schedulerClassOf(manifest);
  const device = options.device ?? Device.default;
  const variants = configVariants(manifest.config);
  const inputs = new CaseTensors(tensors);
  const requests = new Map<string, { variant: string; group: string; fields: Map<string, string> }>();
  for (const name of manifest.outputs) {
    const { variant, group, field } = splitOutputName(name, [...variants.keys()]);
    const key = `${variant}\u0000${group}`;
    if (!requests.has(key)) requests.set(key, { variant, group, fields: new Map() });
    requests.get(key)!.fields.set(field, name);
  }
  const results = new Map<string, ParityOutput>();
  for (const { variant, group, fields } of requests.values()) {
    const prefix = `${variant === "" ? "" : `${variant}.`}${group === "" ? "" : `${group}.`}`;
    const context: GroupContext = {
      className,
      config: variants.get(variant)!,
      inputs,
      variant,
      group,
      text: descriptionFor(manifest.description ?? "", group),
      shapeOf: (field) => manifest.shapes?.[`${prefix}${field}`] ?? tensors.get(`${prefix}${field}`)?.shape,
      upload: (input, row) => upload(input, device, row),
    };
    const computed = await computeGroup(context, [...fields.keys()]);
    for (const [field, name] of fields) {
      const output = computed.get(field);
      if (!output) throw new Error(`Cannot compute output "${name}" of case "${manifest.name}": unknown output`);
      results.set(name, withManifestShape(name, output, manifest.shapes?.[name]));
    }
  }
  return results;
}

async function computeGroup(context: GroupContext, fields: readonly string[]): Promise<Map<string, ParityOutput>> {
  if (context.group === "step") return await stepGroup(context, fields);
  if (context.group === "add_noise") return await addNoiseGroup(context);
  const out = new Map<string, ParityOutput>();
  const scheduler = createScheduler(context);
  for (const field of fields) {
    const table = tableOutput(scheduler, field);
    if (table) out.set(field, table);
    const spaced = /^timesteps_(\d+)$/.exec(field);
    if (spaced) {
      scheduler.setTimesteps(Number(spaced[1]));
      out.set(field, vector(scheduler.timesteps));
    }
  }
  if (fields.some((f) => !out.has(f) && TRAJECTORY_FIELDS.includes(f))) {
    for (const [field, value] of await trajectory(context, fields)) out.set(field, value);
  }
  return out;
}

function createScheduler(context: GroupContext): AnyScheduler {
  switch (context.className) {
    case "DDIMScheduler":
      return DDIMScheduler.fromConfig(context.config);
    case "DDPMScheduler":
      return DDPMScheduler.fromConfig(context.config);
    case "EulerAncestralDiscreteScheduler":
      return EulerAncestralDiscreteScheduler.fromConfig(context.config);
    case "DPMSolverMultistepScheduler":
      return DPMSolverMultistepScheduler.fromConfig(context.config);
  }
}

/** The training tables (`alphas_cumprod`, `betas`, `alphas`, `final_alpha_cumprod`). */
function tableOutput(scheduler: AnyScheduler, field: string): ParityOutput | undefined {
  if (field === "alphas_cumprod") return vector(scheduler.schedule.alphasCumprod);
  if (field === "betas") return vector(scheduler.schedule.betas);
  if (field === "alphas") return vector(scheduler.schedule.alphas);
  if (field === "final_alpha_cumprod" && scheduler instanceof DDIMScheduler)
    return { shape: [], data: Float32Array.of(scheduler.finalAlphaCumprod) };
  return undefined;
}

/**
 * A sampling loop as a pipeline runs it, with the fake model eps = k·scaleModelInput(x, t) + c:
 * `timesteps`, `sigmas`, `init_noise_sigma`, and per step `samples`, `pred_original_samples`,
 * `model_inputs` (row i: after / at step i).
 */
async function trajectory(context: GroupContext, fields: readonly string[]): Promise<Map<string, ParityOutput>> {
  const { inputs, variant, group } = context;
  const count = stepCountOf(context, ["samples", "pred_original_samples", "model_inputs", "timesteps"]);
  const scheduler = createScheduler(context);
  scheduler.setTimesteps(count);
  const out = new Map<string, ParityOutput>([
    ["timesteps", vector(scheduler.timesteps)],
    ["init_noise_sigma", { shape: [], data: Float32Array.of(scheduler.initNoiseSigma) }],
  ]);
  if ("sigmas" in scheduler) out.set("sigmas", vector(scheduler.sigmas));
  if (!fields.some((f) => ["samples", "pred_original_samples", "model_inputs"].includes(f))) return out;
  const c = context.upload(inputs.get(variant, group, ["c"]));
  const start = inputs.find(variant, group, ["x_T"]);
  let x = start ? context.upload(start) : tidy(() => mul(context.upload(inputs.get(variant, group, ["noise"])), scheduler.initNoiseSigma));
  const sampleShape = [...x.shape];
  const stepNoise = inputs.find(variant, group, ["variance_noise", "step_noise"]);
  const eta = etaIn(context.text) ?? 0;
  const scale = fakeModelScaleIn(context.text);
  const rows = { samples: [] as Float32Array[], pred_original_samples: [] as Float32Array[], model_inputs: [] as Float32Array[] };
  for (const [i, t] of scheduler.timesteps.entries()) {
    const modelInput = scheduler.scaleModelInput(x, t);
    const eps = tidy(() => add(mul(modelInput, scale), c));
    const noise = stepNoise ? context.upload(stepNoise, i) : undefined;
    const result = stepAny(scheduler, eps, t, x, noise, eta);
    rows.model_inputs.push(await readF32(modelInput));
    rows.samples.push(await readF32(result.prevSample));
    rows.pred_original_samples.push(await readF32(result.predOriginalSample));
    for (const temporary of [modelInput, eps, noise, x, result.predOriginalSample]) temporary?.dispose();
    x = result.prevSample;
  }
  x.dispose();
  c.dispose();
  if (scheduler instanceof DPMSolverMultistepScheduler) scheduler.dispose();
  for (const [field, list] of Object.entries(rows)) out.set(field, stacked(list, sampleShape));
  return out;
}

/** `step.*`: one step from `step.sample` at each of `step.timesteps`, for each η the fields name. */
async function stepGroup(context: GroupContext, fields: readonly string[]): Promise<Map<string, ParityOutput>> {
  const { inputs, variant, group } = context;
  const count = stepCountIn(context.text);
  if (count === undefined) throw new Error("Cannot run the step outputs: the description names no single set_timesteps(n) for them");
  const timesteps = Array.from(inputs.get(variant, group, ["timesteps"]).data);
  const modelOutput = context.upload(inputs.get(variant, group, ["model_output"]));
  const sample = context.upload(inputs.get(variant, group, ["sample"]));
  const noiseInput = inputs.find(variant, group, ["variance_noise", "noise"]);
  const noise = noiseInput ? context.upload(noiseInput) : undefined;
  const out = new Map<string, ParityOutput>();
  for (const field of fields) {
    const { eta = etaIn(context.text) ?? 0, name } = etaOfField(field);
    const rows: Float32Array[] = [];
    for (const t of timesteps) {
      const scheduler = createScheduler(context);
      scheduler.setTimesteps(count);
      const result = stepAny(scheduler, modelOutput, t, sample, noise, eta);
      rows.push(await stepField(result, name, field));
      for (const tensor of [result.prevSample, result.predOriginalSample, result.prevSampleMean]) tensor?.dispose();
      if (scheduler instanceof DPMSolverMultistepScheduler) scheduler.dispose();
    }
    out.set(field, stacked(rows, name === "std_dev_t" ? [] : sample.shape));
  }
  [modelOutput, sample, noise].forEach((t) => t?.dispose());
  return out;
}

async function stepField(result: StepResult, name: string, field: string): Promise<Float32Array> {
  if (name === "prev_sample") return await readF32(result.prevSample);
  if (name === "pred_original_sample") return await readF32(result.predOriginalSample);
  if (name === "prev_sample_mean" && result.prevSampleMean) return await readF32(result.prevSampleMean);
  if (name === "std_dev_t" && result.stdDevT !== undefined) return Float32Array.of(result.stdDevT);
  throw new Error(`Cannot compute step output "${field}": unknown field "${name}"`);
}

/** `add_noise.out` = addNoise(original, noise, timesteps), one timestep per batch row. */
async function addNoiseGroup(context: GroupContext): Promise<Map<string, ParityOutput>> {
  const { inputs, variant, group } = context;
  const scheduler = createScheduler(context);
  const count = stepCountIn(context.text);
  if (count !== undefined) scheduler.setTimesteps(count);
  const original = context.upload(inputs.get(variant, group, ["original", "original_samples"]));
  const noise = context.upload(inputs.get(variant, group, ["noise"]));
  const timesteps = Array.from(inputs.get(variant, group, ["timesteps"]).data);
  const noisy = scheduler.addNoise(original, noise, timesteps);
  const data = await readF32(noisy);
  [original, noise, noisy].forEach((t) => t.dispose());
  return new Map([["out", { shape: [...original.shape], data }]]);
}

interface StepResult {
  prevSample: Tensor;
  predOriginalSample: Tensor;
  prevSampleMean?: Tensor;
  stdDevT?: number;
}

function stepAny(scheduler: AnyScheduler, eps: Tensor, t: number, x: Tensor, noise: Tensor | undefined, eta: number): StepResult {
  if (scheduler instanceof DDIMScheduler) return scheduler.step(eps, t, x, { eta, noise: eta > 0 ? noise : undefined });
  if (scheduler instanceof DDPMScheduler) return scheduler.step(eps, t, x, { noise: t > 0 ? noise : undefined });
  if (scheduler instanceof EulerAncestralDiscreteScheduler) return scheduler.step(eps, t, x, { noise });
  return scheduler.step(eps, t, x);
}

/** The loop's step count: the leading dimension of a per-step output, else the description's n. */
function stepCountOf(context: GroupContext, perStepFields: readonly string[]): number {
  for (const field of perStepFields) {
    const shape = context.shapeOf(field);
    if (shape && shape.length > 0) return shape[0];
  }
  const stated = stepCountIn(context.text);
  if (stated === undefined)
    throw new Error("Cannot tell the number of sampling steps: no per-step output and no single set_timesteps(n) in the description");
  return stated;
}

/** The values of an f32 tensor. */
async function readF32(t: Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.toArray());
}

/** The whole tensor, or row `row` of its leading axis, on `device`. */
function upload(input: ParityTensor, device: Device, row?: number): Tensor {
  if (row === undefined) return tensor(Float32Array.from(input.data), [...input.shape], { device });
  const rowShape = input.shape.slice(1);
  const size = rowShape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: size }, (_, i) => input.data[row * size + i]);
  return tensor(values, rowShape, { device });
}

function vector(values: ArrayLike<number>): ParityOutput {
  return { shape: [values.length], data: Float32Array.from(values) };
}

function stacked(rows: readonly Float32Array[], rowShape: readonly number[]): ParityOutput {
  const size = rowShape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(rows.length * size);
  rows.forEach((row, i) => data.set(row, i * size));
  return { shape: [rows.length, ...rowShape], data };
}

function withManifestShape(name: string, output: ParityOutput, shape: readonly number[] | undefined): ParityOutput {
  if (shape === undefined) return output;
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== output.data.length) {
    throw new Error(`Cannot match output "${name}": computed ${output.data.length} values [${output.shape}], the manifest says [${shape}]`);
  }
  return { shape: [...shape], data: output.data };
}
