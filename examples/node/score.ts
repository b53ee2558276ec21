// Scoring images with the step-aware preference model (SPM): a CLIP whose vision tower knows the
// diffusion timestep, so it can judge a noisy sample's predicted clean image x̂0 at step t.
//
//   node --conditions=@spo/source --import tsx examples/node/score.ts [--timesteps 999,500,0] [--out examples/node/output/score]
//
// The model here is tiny and has random weights everywhere, its timestep layers included, so the scores
// change with t but mean nothing: they show the shapes and the API; the toy world's exact reward is
// printed beside them. With the published SD1.5 SPM you would instead call
// `await loadStepPreferenceModel("sd-v1-5_step-aware_preference_model.bin")` (1.3 B parameters).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadSpmTokenizer, StepPreferenceModel, StepPreferenceScorer } from "@spo/step-preference-model/node";
import { parsePrompt, renderScene, reward } from "@spo/toyworld";
import { Device, tensor } from "@spo/wgpu-tensor";

const { values: args } = parseArgs({
  options: {
    timesteps: { type: "string", default: "999,750,500,250,0" },
    out: { type: "string", default: "examples/node/output/score" },
  },
});
const timesteps = args.timesteps.split(",").map(Number);
Device.setDefault(await Device.create());
const started = performance.now();

// A tiny SPM: the same classes as the published ViT-H/14 one, a few thousand times smaller.
const model = StepPreferenceModel.fromConfig(
  {
    projection_dim: 16,
    text_config: { hidden_size: 32, intermediate_size: 64, num_attention_heads: 4, num_hidden_layers: 2, hidden_act: "gelu" },
    vision_config: {
      hidden_size: 32,
      intermediate_size: 64,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      image_size: 16,
      patch_size: 4,
      hidden_act: "gelu",
    },
  },
  { seed: 1 },
);
// initAdaLNParameters(model) (also exported) would set the adaLN layers as SPO starts training: every t alike.
const scorer = new StepPreferenceScorer(model, await loadSpmTokenizer());

// Three toy images for one prompt: a correct rendering, the same with noise, and a wrong scene.
const prompt = "a large red circle in the center on a white background";
const good = renderScene(parsePrompt(prompt), { seed: 1 });
const noisy = good.map((v, i) => Math.max(-1, Math.min(1, v + 0.4 * Math.sin(i * 12.9898))));
const wrong = renderScene(parsePrompt("a small blue square at the top on a black background"), { seed: 1 });
const names = ["rendered", "rendered + noise", "wrong scene"];
const pixels = [good, noisy, wrong];
const images = tensor(Float32Array.from(pixels.flatMap((p) => Array.from(p))), [3, 3, 16, 16]); // [N, C, H, W] in [−1, 1]

// Score every image at every timestep (one call per t; each image can have its own t).
const rows = [];
for (const t of timesteps) {
  const scores = await scorer.score(images, [prompt, prompt, prompt], [t, t, t]);
  rows.push({ t, scores: Array.from(scores) });
}
console.log(`prompt: ${prompt}`);
console.log(["t", ...names].join("\t"));
for (const { t, scores } of rows) console.log([t, ...scores.map((s) => s.toFixed(4))].join("\t"));
const rewards = pixels.map((p) => reward(p, prompt));
console.log(["exact", ...rewards.map((r) => r.toFixed(4))].join("\t"));

await mkdir(args.out, { recursive: true });
const file = join(args.out, "scores.json");
await writeFile(file, `${JSON.stringify({ prompt, images: names, timesteps: rows, exactReward: rewards }, null, 2)}\n`);
console.log(`wrote ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
