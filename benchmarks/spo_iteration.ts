// One SPO iteration and one SPO training step, timed and measured.
//
// Default: one iteration on a tiny UNet (4×16×16 latents, channels 32/64): sampling a batch of
// prompts with the pooled sampler (pool 4, 20 DDIM steps, branching from step 4), scoring the
// children, then training on the kept pairs (minibatches of 10, AdamW on the LoRA). Time is split
// into sampling / scoring / training, and sampling is compared with plain η = 1 DDIM sampling of the
// same batch (the peer, same run): the pool makes branched steps k× wider.
//   node --conditions=@spo/source --import tsx benchmarks/spo_iteration.ts [--batch=4]
//
// --sd15: the full-size SD1.5 UNet with random weights, LoRA r4 on to_q/k/v/out.0, peak GPU bytes
// of one SPO training step (reference CFG pass, policy CFG pass, clipped loss, backward) on
// `--pairs` pairs, without and with gradient checkpointing. Heavy on a CPU adapter (each UNet pass
// takes minutes at 64×64; `--latent=16` shrinks the activations, not the weights; `--channels=32`
// keeps the topology and the 64×64 resolution at a tenth of the widths).
//   node --conditions=@spo/source --import tsx benchmarks/spo_iteration.ts --sd15 [--pairs=1] [--latent=64] [--channels=320]
import { loadavg } from "node:os";
import { SD15_SCHEDULER_CONFIG, SD15_UNET_CONFIG, DDIMScheduler, UNet2DConditionModel } from "@spo/diffusion-unet";
import { AdamW, Device, mean, noGrad, RandomGenerator, randn, type Tensor } from "@spo/wgpu-tensor";
// relative imports: keep the benchmarks package's dependency list (and the lockfile) unchanged
import { injectLora } from "../packages/lora/mod.ts";
import { type PromptEncoder, sampleImages, sampleSpoPairs, type SpoPair, spoMinibatchStep } from "../packages/spo-trainer/mod.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const device = await Device.create();
Device.setDefault(device);
console.log(`adapter: ${device.adapter.description}; load ${loadavg()[0]!.toFixed(1)}`);
const seconds = (start: number) => (performance.now() - start) / 1000;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(3)} GiB`;

/** A prompt encoder of fixed pseudo-random contexts (no text model: not what is measured). */
function randomContexts(tokens: number, dim: number): PromptEncoder {
  return { encode: (prompts) => randn([prompts.length, tokens, dim], { seed: prompts.join("|").length + (prompts[0] === "" ? 0 : 1) }) };
}

const TARGETS = ["to_q", "to_k", "to_v", "to_out.0"];

async function tinyIteration(): Promise<void> {
  const batch = option("batch", 2);
  const config = {
    sample_size: 16,
    in_channels: 4,
    out_channels: 4,
    block_out_channels: [32, 64],
    layers_per_block: 1,
    norm_num_groups: 32,
    cross_attention_dim: 32,
    attention_head_dim: 8,
    down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
    up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
  };
  const unet = UNet2DConditionModel.fromConfig(config, { seed: 1 });
  unet.requiresGrad_(false);
  const adapter = injectLora(unet, { rank: 4, alpha: 4, init: "gaussian", targetModules: TARGETS, seed: 2 });
  const optimizer = new AdamW(adapter.parameters(), { lr: 6e-5, weightDecay: 1e-4 });
  const scheduler = DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
  const promptEncoder = randomContexts(8, 32);
  const prompts = Array.from({ length: batch }, (_, i) => `prompt ${i}`);
  let scoring = 0;
  const scorer = {
    async score(images: Tensor) {
      await device.sync(); // the pending sampling work counts as sampling
      const start = performance.now();
      const m = noGrad(() => mean(images, [1, 2, 3]));
      const values = Float32Array.from(await m.toArray(), (v) => 100 * v);
      m.dispose();
      scoring += seconds(start);
      return values;
    },
  };
  // warm-up: compile every kernel once (plain sampling and one training step)
  (
    await sampleImages({ unet, scheduler, promptEncoder }, "warm", { seed: 0, count: batch, steps: 2, latentShape: [4, 16, 16], eta: 1 })
  ).dispose();

  let start = performance.now();
  const plain = await sampleImages({ unet, scheduler, promptEncoder }, "peer", {
    seed: 3,
    count: batch,
    steps: 20,
    latentShape: [4, 16, 16],
    eta: 1,
  });
  await plain.toArray();
  plain.dispose();
  const plainSeconds = seconds(start);

  start = performance.now();
  const sampled = await sampleSpoPairs({ unet, scheduler, promptEncoder, scorer, generator: new RandomGenerator(4) }, prompts, {
    latentShape: [4, 16, 16],
  });
  const samplingAndScoring = seconds(start);
  sampled.latents.dispose();

  start = performance.now();
  const pairs: SpoPair[] = sampled.pairs;
  let updates = 0;
  for (let i = 0; i < pairs.length; i += 10) {
    await spoMinibatchStep({ unet, scheduler, promptEncoder }, pairs.slice(i, i + 10), [4, 16, 16]);
    optimizer.step();
    optimizer.zeroGrad();
    updates++;
  }
  await device.sync();
  const training = seconds(start);
  const sampling = samplingAndScoring - scoring;
  const total = samplingAndScoring + training;
  console.log(
    `tiny UNet (${unet.parameterCount().toLocaleString("en")} params), batch ${batch}, pool 4, 20 steps: ${sampled.pairs.length}/${sampled.offered} pairs kept, ${updates} updates`,
  );
  console.log(
    `  sampling ${sampling.toFixed(2)} s (${((100 * sampling) / total).toFixed(0)}%), scoring ${scoring.toFixed(2)} s (${((100 * scoring) / total).toFixed(0)}%), training ${training.toFixed(2)} s (${((100 * training) / total).toFixed(0)}%), total ${total.toFixed(2)} s`,
  );
  console.log(
    `  peer: plain DDIM η=1 sampling of the same batch ${plainSeconds.toFixed(2)} s; SPO sampling / plain = ${(sampling / plainSeconds).toFixed(2)}×`,
  );
  optimizer.dispose();
  adapter.remove();
  unet.dispose();
}

async function sd15TrainingStep(isCheckpointing: boolean): Promise<void> {
  const pairCount = option("pairs", 1);
  const side = option("latent", 64);
  // --channels=c scales SD1.5's widths (320, 640, 1280, 1280) to (c, 2c, 4c, 4c), same topology and resolution
  const channels = option("channels", 320);
  const config = { ...SD15_UNET_CONFIG, block_out_channels: [channels, 2 * channels, 4 * channels, 4 * channels] };
  const unet = UNet2DConditionModel.fromConfig(config, { seed: 1 });
  unet.requiresGrad_(false);
  unet.setGradientCheckpointing(isCheckpointing);
  const adapter = injectLora(unet, { rank: 4, alpha: 4, init: "gaussian", targetModules: TARGETS, seed: 2 });
  const scheduler = DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
  scheduler.setTimesteps(20);
  const g = new RandomGenerator(5);
  const shape = [4, side, side];
  const host = async () => Float32Array.from(await g.randn(shape).toArray());
  const pairs: SpoPair[] = [];
  for (let i = 0; i < pairCount; i++)
    pairs.push({
      sample: await host(),
      winner: await host(),
      loser: await host(),
      timestep: 751,
      prompt: `p${i}`,
      step: 4,
      scoreWin: 1,
      scoreLose: 0,
    });
  await device.sync();
  const weights = device.memory().liveBytes;
  device.pool.resetPeak();
  const start = performance.now();
  const stats = await spoMinibatchStep({ unet, scheduler, promptEncoder: randomContexts(77, 768) }, pairs, shape);
  await device.sync();
  const peak = device.memory().peakBytes;
  console.log(
    `SD1.5${channels === 320 ? "" : ` topology at width ${channels}`} (${unet.parameterCount().toLocaleString("en")} params) ${isCheckpointing ? "with" : "without"} gradient checkpointing, ${pairCount} pair(s), ${side}×${side} latents: loss ${stats.loss.toFixed(4)}, ${seconds(start).toFixed(0)} s, peak ${gib(peak)} (weights and LoRA ${gib(weights)}, step ${gib(peak - weights)})`,
  );
  for (const p of adapter.parameters()) p.grad?.dispose();
  adapter.remove();
  unet.dispose();
}

if (args.includes("--sd15")) {
  await sd15TrainingStep(false);
  await sd15TrainingStep(true);
} else {
  await tinyIteration();
}
device.destroy();
