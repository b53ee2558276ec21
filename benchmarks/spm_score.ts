// Scoring 8 images at 224 with the step-aware preference model at the published ViT-H/14 shape
// (random weights, 1.31 B parameters), as SPO scores a pool of candidates: f32, then f16 where the
// adapter has shader-f16. Prints the time and the peak GPU bytes of each, and the ratio of the
// step-aware model to the step-agnostic one (plain CLIP ViT-H/14, the peer) measured in the same run
// with --peer. Heavy on a CPU adapter (minutes per pass).
//   node --conditions=@spo/source --import tsx benchmarks/spm_score.ts [--images=8] [--peer] [--f32-only]
import { loadavg } from "node:os";
import { Device, randn } from "@spo/wgpu-tensor";
import {
  loadSpmTokenizer,
  loadStepPreferenceWeights,
  StepPreferenceModel,
  StepPreferenceScorer,
  VIT_H_14_CONFIG,
} from "@spo/step-preference-model/node";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}`));
const imageCount = Number(arg("images")?.split("=")[1] ?? 8);
const device = await Device.create();
Device.setDefault(device);
console.log(`adapter: ${device.adapter.description}; shader-f16: ${device.hasF16}; load ${loadavg()[0]!.toFixed(1)}`);
const tokenizer = await loadSpmTokenizer();
const prompts = Array.from({ length: imageCount }, (_, i) => `a photo of a cat number ${i}, highly detailed`);
const timesteps = Array.from({ length: imageCount }, (_, i) => (i * 131) % 1000);

/**
 * Random weights streamed like a checkpoint (the model's default init cannot fill the 193 MiB f32
 * token embedding on a 128 MiB-binding adapter): U(±1/√fan_in) for matrices, 1 ± 0.1 for norm
 * scales, ±0.02 for vectors, logit_scale ln(1/0.07). Also exercises the streaming loader at full size.
 */
let state = 0x9e3779b9;
function randomWeights(model: StepPreferenceModel) {
  const shapes = new Map([...model.namedParameters()].map(([name, p]) => [name, [...p.shape]]));
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296 - 0.5;
  };
  return {
    names: [...shapes.keys()],
    has: (name: string) => shapes.has(name),
    info: (name: string) => ({ shape: shapes.get(name)! }),
    float32: async (name: string) => {
      const shape = shapes.get(name)!;
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      if (name === "logit_scale") data[0] = Math.log(1 / 0.07);
      else if (/(norm\d?|layrnorm)\.weight$/.test(name)) for (let i = 0; i < data.length; i++) data[i] = 1 + 0.2 * next();
      else {
        const bound = shape.length >= 2 ? 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)) : 0.02;
        for (let i = 0; i < data.length; i++) data[i] = 2 * bound * next();
      }
      return { shape, data };
    },
  };
}

async function measure(dtype: "f32" | "f16", isTimeConditioned: boolean): Promise<number> {
  const what = `${isTimeConditioned ? "step-aware" : "step-agnostic"} ViT-H/14 ${dtype}`;
  state = 0x9e3779b9;
  let started = performance.now();
  const model = StepPreferenceModel.fromConfig(VIT_H_14_CONFIG, { init: "meta", dtype, isTimeConditioned });
  await loadStepPreferenceWeights(model, randomWeights(model));
  model.requiresGrad_(false);
  await device.sync();
  const weightBytes = device.memory().liveBytes;
  console.log(
    `${what}: ${model.parameterCount().toLocaleString("en-US")} parameters, ${(weightBytes / 2 ** 30).toFixed(2)} GiB live after init (${((performance.now() - started) / 1000).toFixed(0)} s)`,
  );
  const images = randn([imageCount, 3, 224, 224], { seed: 2 });
  const scorer = new StepPreferenceScorer(model, tokenizer, { chunkSize: imageCount });
  await device.sync();
  device.pool.resetPeak();
  const cpuBefore = process.cpuUsage();
  started = performance.now();
  const scores = await scorer.score(images, prompts, timesteps);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const peak = device.memory().peakBytes;
  console.log(
    `${what}: scored ${imageCount} images in ${seconds.toFixed(1)} s wall (${((cpu.user + cpu.system) / 1e6).toFixed(0)} CPU-s, load ${loadavg()[0]!.toFixed(1)}), ` +
      `peak ${(peak / 2 ** 30).toFixed(2)} GiB (${((peak - weightBytes) / 2 ** 20).toFixed(0)} MiB above the weights), ` +
      `scores ${[...scores]
        .slice(0, 3)
        .map((s) => s.toFixed(3))
        .join(", ")}… ${scores.every(Number.isFinite) ? "finite" : "HAS NON-FINITE VALUES"}`,
  );
  images.dispose();
  model.dispose();
  await device.sync();
  return seconds;
}

const f32 = await measure("f32", true);
if (arg("peer")) {
  const peer = await measure("f32", false);
  console.log(`ratio step-aware / step-agnostic (f32): ${(f32 / peer).toFixed(2)}`);
}
if (device.hasF16 && !arg("f32-only")) {
  const f16 = await measure("f16", true);
  console.log(`ratio f16 / f32 (step-aware): ${(f16 / f32).toFixed(2)}`);
}
device.destroy();
