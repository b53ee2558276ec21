/**
 * Measures a toy model against the world: the mean exact reward of its images for held-out prompts
 * (colour–shape pairs never seen in training), beside rendered ground truth and uniform-noise
 * images for the same prompts, each with a 95 % confidence interval; writes a sample grid.
 * `node --conditions=@spo/source --import tsx packages/toyworld/pretrain/evaluate_node.ts [--model folder] [--count 64] [--split heldout] [--out folder]`
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { toPng } from "@spo/pipeline/node";
import { Device } from "@spo/wgpu-tensor";
import { loadToyModel, TOY_BASE_MODEL_URL } from "../model/load_toy_model_node.ts";
import { sampleToyImages } from "../model/toy_sampler.ts";
import { reward } from "../reward/reward.ts";
import { meanWithInterval } from "../reward/statistics.ts";
import { formatPrompt } from "../world/grammar.ts";
import { imageGrid } from "../world/image_grid.ts";
import { IMAGE_SIZE, renderScene } from "../world/render.ts";
import { WorldRandom } from "../world/rng.ts";
import { sampleScenes, type Split } from "../world/split.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: decodeURIComponent(TOY_BASE_MODEL_URL.pathname) },
    count: { type: "string", default: "64" },
    batch: { type: "string", default: "32" },
    split: { type: "string", default: "heldout" },
    guidance: { type: "string", default: "5" },
    out: { type: "string" },
  },
});
const count = Number(values.count);
const batch = Number(values.batch);
const device = await Device.create();
const pipe = await loadToyModel(values.model!, { device });
const scenes = sampleScenes(count, { split: values.split as Split, seed: 2024 });
const prompts = scenes.map(formatPrompt);
const plane = 3 * IMAGE_SIZE * IMAGE_SIZE;
const started = performance.now();
const generated: Float32Array[] = [];
for (let i = 0; i < count; i += batch) {
  const part = prompts.slice(i, i + batch);
  const images = await sampleToyImages(pipe.components, part, {
    seeds: part.map((_, k) => 10_000 + i + k),
    guidanceScale: Number(values.guidance),
  });
  for (let k = 0; k < part.length; k++) generated.push(images.slice(k * plane, (k + 1) * plane));
  console.log(`sampled ${Math.min(count, i + batch)}/${count} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
const truth = scenes.map((scene, i) => renderScene(scene, { seed: 10_000 + i }));
const random = new WorldRandom(99);
const noise = scenes.map(() => Float32Array.from({ length: plane }, () => random.uniform(-1, 1)));
const score = (images: Float32Array[]) => meanWithInterval(images.map((image, i) => reward(image, scenes[i]!)));
const summary = {
  split: values.split,
  prompts: count,
  guidanceScale: Number(values.guidance),
  model: score(generated),
  groundTruth: score(truth),
  random: score(noise),
  samplingSeconds: (performance.now() - started) / 1000,
};
console.log(JSON.stringify(summary, null, 2));
if (values.out) {
  await mkdir(values.out, { recursive: true });
  const shown = Math.min(16, count);
  const grid = imageGrid([...generated.slice(0, shown), ...truth.slice(0, shown)], { columns: shown, size: IMAGE_SIZE, scale: 4 });
  await writeFile(join(values.out, "samples.png"), toPng(grid));
  await writeFile(join(values.out, "summary.json"), `${JSON.stringify({ ...summary, shownPrompts: prompts.slice(0, shown) }, null, 2)}\n`);
  console.log(`wrote ${join(values.out, "samples.png")} (top: model, bottom: ground truth)`);
}
pipe.dispose();
device.destroy();
