/**
 * Pretrains the toy base model from scratch and writes it as a diffusers folder:
 * `npm run toyworld:pretrain -- [--steps N] [--batch B] [--out folder] [--checkpoint-every K]`.
 * The defaults reproduce the shipped weights in packages/toyworld/assets/base_model (same adapter,
 * same numbers: the data, the noise and the initial weights are all seeded).
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { CLIPTextModel, loadDefaultClipTokenizer } from "@spo/clip/node";
import { DDPMScheduler, UNet2DConditionModel } from "@spo/diffusion-unet";
import { trainDiffusionModel } from "@spo/trainer";
import { constantSchedule, Device, withInitStream } from "@spo/wgpu-tensor";
import { saveToyModelFolder } from "../model/save_model_node.ts";
import { TOY_SCHEDULER_CONFIG, TOY_TEXT_ENCODER_CONFIG, TOY_UNET_CONFIG } from "../model/toy_configs.ts";
import { worldBatch } from "../world/dataset.ts";
import { IMAGE_SIZE } from "../world/render.ts";

/** The settings of the shipped weights. */
export const PRETRAIN_DEFAULTS = { steps: 400, batchSize: 16, learningRate: 1e-3, warmupSteps: 20, promptDropout: 0.1, seed: 0 } as const;

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: String(PRETRAIN_DEFAULTS.steps) },
    batch: { type: "string", default: String(PRETRAIN_DEFAULTS.batchSize) },
    out: { type: "string", default: fileURLToPath(new URL("../assets/base_model", import.meta.url)) },
    "checkpoint-every": { type: "string", default: "25" },
  },
});
const steps = Number(values.steps);
const batchSize = Number(values.batch);
const out = values.out!;
const device = await Device.create();
const tokenizer = await loadDefaultClipTokenizer();
const unetInit = withInitStream({ seed: PRETRAIN_DEFAULTS.seed });
const unet = UNet2DConditionModel.fromConfig(TOY_UNET_CONFIG, unetInit);
// The shipped weights were drawn when all layers shared one offset sequence: the text encoder's
// stream starts where the UNet's ended, so these defaults still reproduce them.
const textSeed = PRETRAIN_DEFAULTS.seed + 1;
const textEncoder = CLIPTextModel.fromConfig(TOY_TEXT_ENCODER_CONFIG, {
  seed: textSeed,
  initStream: { seed: textSeed, offset: unetInit.initStream!.offset },
});
const noiseSchedule = DDPMScheduler.fromConfig(TOY_SCHEDULER_CONFIG).schedule;
console.log(
  `toy base model: UNet ${unet.parameterCount().toLocaleString("en")} parameters, text encoder ${textEncoder.parameterCount().toLocaleString("en")}; ${steps} steps of ${batchSize} images → ${out}`,
);
let smoothed = Number.NaN;
const { elapsedMs } = await trainDiffusionModel({
  unet,
  textEncoder,
  tokenizer,
  noiseSchedule,
  device,
  sampleShape: [3, IMAGE_SIZE, IMAGE_SIZE],
  data: (index, size) => worldBatch(index, size, { seed: PRETRAIN_DEFAULTS.seed }),
  steps,
  batchSize,
  learningRate: PRETRAIN_DEFAULTS.learningRate,
  lrSchedule: constantSchedule(PRETRAIN_DEFAULTS.learningRate, PRETRAIN_DEFAULTS.warmupSteps),
  promptDropout: PRETRAIN_DEFAULTS.promptDropout,
  predictionType: TOY_SCHEDULER_CONFIG.prediction_type,
  trainTextEncoder: true,
  seed: PRETRAIN_DEFAULTS.seed,
  checkpointEvery: Number(values["checkpoint-every"]),
  onProgress: ({ step, loss, elapsedMs: ms }) => {
    smoothed = Number.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
    console.log(`step ${step}/${steps} loss ${loss.toFixed(4)} (smoothed ${smoothed.toFixed(4)}) ${(ms / 1000).toFixed(0)} s`);
  },
  onCheckpoint: async (step) => {
    await saveToyModelFolder(out, unet, textEncoder, { steps: String(step), batch_size: String(batchSize) });
    console.log(`saved step ${step} to ${out}`);
  },
});
console.log(`done: ${steps} steps in ${(elapsedMs / 60000).toFixed(1)} min`);
device.destroy();
