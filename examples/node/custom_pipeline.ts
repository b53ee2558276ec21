// A pipeline of your own from the parts: a hand-written sampling loop (UNet, DDIM scheduler, classifier-free
// guidance) that branches into a pool of children at every step like SPO's sampler, scores each child's
// predicted clean image with YOUR reward ("prefer images whose centre is brighter than their border"),
// keeps best-vs-worst pairs, and trains a LoRA on them with SPO's loss. Nothing here calls SpoTrainer.
//
//   node --conditions=@spo/source --import tsx examples/node/custom_pipeline.ts [--rounds 2] [--steps 6] [--out examples/node/output/custom_pipeline]
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DDIMScheduler } from "@spo/diffusion-unet";
import { injectLora, saveLora, writeLoraFile } from "@spo/lora/node";
import {
  clipPromptEncoder,
  comparePreferences,
  guidedEpsilon,
  pickChildren,
  repeatRows,
  resampleParents,
  resolvePredictionType,
  type SpoPair,
  sampleChildren,
  spoMinibatchStep,
  transitionMean,
} from "@spo/trainer";
import { loadToyModel } from "@spo/toyworld/node";
import { AdamW, Device, noGrad, RandomGenerator, type Tensor } from "@spo/wgpu-tensor";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "2" },
    steps: { type: "string", default: "6" },
    out: { type: "string", default: "examples/node/output/custom_pipeline" },
  },
});
Device.setDefault(await Device.create());
const started = performance.now();

// The user's reward, on host pixels [N, 3, 16, 16] in [−1, 1]: centre (8×8) brightness minus the border's.
function centreBrightness(pixels: Float32Array, count: number): number[] {
  const size = 16;
  const scores = [];
  for (let n = 0; n < count; n++) {
    let centre = 0;
    let border = 0;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const v = pixels[((n * 3 + c) * size + y) * size + x]!;
          if (x >= 4 && x < 12 && y >= 4 && y < 12) centre += v;
          else border += v;
        }
    scores.push(centre / (3 * 64) - border / (3 * 192));
  }
  return scores;
}

const pipe = await loadToyModel();
const { unet, textEncoder, tokenizer, schedulerConfig } = pipe.components;
const scheduler = DDIMScheduler.fromConfig(schedulerConfig);
const prediction = { schedule: scheduler, predictionType: resolvePredictionType(undefined, scheduler) }; // v for the toy model
const promptEncoder = clipPromptEncoder(textEncoder, tokenizer);
const generator = new RandomGenerator(0);
const adapter = injectLora(unet, {
  name: "centre",
  rank: 4,
  alpha: 4,
  init: "gaussian",
  targetModules: ["to_q", "to_k", "to_v", "to_out.0"],
  seed: 0,
});
const optimizer = new AdamW(adapter.parameters(), { lr: 1e-3 });

const prompts = ["a large red circle in the center on a black background", "a small blue square on the left on a white background"];
const batch = prompts.length;
const k = 2; // children per parent
const guidance = 5;
const latentShape = [3, 16, 16];

/** One SPO-style sampling pass by hand; returns the pairs and the final images' mean reward. */
async function samplePairs(): Promise<{ pairs: SpoPair[]; finalReward: number }> {
  scheduler.setTimesteps(Number(args.steps));
  const timesteps = scheduler.timesteps;
  const cond = noGrad(() => promptEncoder.encode(prompts));
  const uncond = noGrad(() => promptEncoder.encode(prompts.map(() => "")));
  const poolCond = repeatRows(cond, k);
  const poolUncond = repeatRows(uncond, k);
  const pairs: SpoPair[] = [];
  let parent: Tensor = generator.randn([batch, ...latentShape]);
  let finalScores: number[] = [];
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i]!;
    // CFG ε̂ of the parents, then k children each (k-major rows: child j of prompt b is row j·B + b)
    const eps = noGrad(() =>
      guidedEpsilon(
        unet,
        parent,
        prompts.map(() => t),
        cond,
        uncond,
        guidance,
        prediction,
      ),
    );
    const { children, noise, mean } = sampleChildren(scheduler, eps, t, parent, k, generator, 1);
    for (const x of [eps, noise, mean]) x.dispose();
    // score each child's predicted clean image x̂0 at its own (next) timestep; the last children are final images
    const last = i === timesteps.length - 1;
    const next = last ? 0 : timesteps[i + 1]!;
    const rows = k * batch;
    const images = last
      ? children
      : noGrad(() => {
          const childEps = guidedEpsilon(unet, children, new Array(rows).fill(next), poolCond, poolUncond, guidance, prediction);
          const { predOriginalSample, mean: m } = transitionMean(scheduler, childEps, new Array(rows).fill(next), children, 1);
          childEps.dispose();
          m.dispose();
          return predOriginalSample;
        });
    const scores = centreBrightness(Float32Array.from(await images.toArray()), rows).map((s) => 10 * s);
    if (images !== children) images.dispose();
    if (last) finalScores = scores;
    // best vs worst child of each parent, kept when the softmax gap clears SPO's threshold
    const { best, worst, valid } = comparePreferences(scores, batch, 0.3);
    const parentHost = Float32Array.from(await parent.toArray());
    const childHost = Float32Array.from(await children.toArray());
    const size = parentHost.length / batch;
    for (let b = 0; b < batch; b++) {
      if (valid[b] !== 1) continue;
      const [w, l] = [best[b]!, worst[b]!];
      pairs.push({
        sample: parentHost.slice(b * size, (b + 1) * size),
        winner: childHost.slice((w * batch + b) * size, (w * batch + b + 1) * size),
        loser: childHost.slice((l * batch + b) * size, (l * batch + b + 1) * size),
        timestep: t,
        prompt: prompts[b]!,
        step: i,
        scoreWin: scores[w * batch + b]!,
        scoreLose: scores[l * batch + b]!,
      });
    }
    // the next parent: one child per prompt, drawn uniformly (SPO's default, not the best one)
    const chosen = await resampleParents(scores, batch, k, { generator });
    parent.dispose();
    parent = pickChildren(children, chosen, batch);
    children.dispose();
  }
  parent.dispose();
  for (const x of [cond, uncond, poolCond, poolUncond]) x.dispose();
  return { pairs, finalReward: finalScores.reduce((a, b) => a + b, 0) / finalScores.length / 10 };
}

for (let round = 0; round < Number(args.rounds); round++) {
  const { pairs, finalReward } = await samplePairs();
  let line = `round ${round}: mean final centre brightness ${finalReward.toFixed(4)}, ${pairs.length} pairs`;
  if (pairs.length > 0) {
    // SPO's loss on the pairs: policy (UNet + LoRA) against the frozen reference (LoRA off), one update
    const stats = await spoMinibatchStep({ unet, scheduler, promptEncoder }, pairs, latentShape, { guidanceScale: guidance });
    optimizer.step();
    optimizer.zeroGrad();
    line += `, loss ${stats.loss.toFixed(4)}`;
  }
  console.log(line);
}

await mkdir(args.out, { recursive: true });
const file = join(args.out, "centre_kohya.safetensors");
await writeLoraFile(file, await saveLora(adapter, "kohya", { models: unet }));
pipe.dispose();
console.log(`wrote ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
