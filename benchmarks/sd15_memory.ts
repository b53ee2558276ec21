// Peak GPU bytes and wall time of the two jobs of issue 18, f32 vs f16 weights and activations:
//  (a) SD1.5 text-to-image: text encoder (freed after encoding), `--steps` UNet CFG steps, VAE
//      (built only for decoding) decoding the latents to an image, the way decodeWithinLimit does;
//  (b) one SPO training update: UNet with LoRA r4 on to_q/k/v/out.0 (f32), reference CFG pass,
//      policy CFG pass, clipped loss, backward, AdamW step (f32 state), GradScaler in f16.
// One configuration per run (peaks of one process do not mix; `sd15_memory_all.ts` runs them all):
//   node --conditions=@spo/source --import tsx benchmarks/sd15_memory.ts --part=generate|train [--dtype=f16] [--checkpointing]
//        [--width=320] [--latent=64] [--steps=20] [--text-layers=12]
// Defaults are full-size SD1.5 with random weights (512×512); heavy on a CPU adapter (a UNet CFG
// step took 383 s on lavapipe). `--width=c` scales the UNet's widths (320, 640, 1280, 1280) to
// (c, 2c, 4c, 4c) and the VAE's by the same factor (at least 32), same topology and resolution;
// `--text-layers` shortens the text encoder. The full-size weight bytes of each part are printed
// first in every run (shape-only models: exact, nothing allocated).
import { loadavg } from "node:os";
import { CLIPTextModel, SD15_TEXT_ENCODER_CONFIG } from "@spo/clip";
import { DDIMScheduler, SD15_SCHEDULER_CONFIG, SD15_UNET_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import { injectLora } from "@spo/lora";
import { type SpoPair, spoMinibatchStep } from "@spo/trainer";
import { AutoencoderKL, decodeWithinLimit, SD15_VAE_CONFIG } from "@spo/vae";
import {
  AdamW,
  add,
  concat,
  Device,
  GradScaler,
  type Module,
  mul,
  narrow,
  noGrad,
  RandomGenerator,
  randn,
  resolveModelDType,
  sub,
  type Tensor,
  tensor,
  toDType,
} from "@spo/wgpu-tensor";

const args = process.argv.slice(2);
const value = (name: string, fallback: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const part = value("part", "generate");
const width = Number(value("width", "320"));
const side = Number(value("latent", "64"));
const steps = Number(value("steps", "20"));
const textLayers = Number(value("text-layers", "12"));
const isCheckpointing = args.includes("--checkpointing");
const fail = (message: string): never => {
  process.stderr.write(`sd15_memory: ${message}\n`);
  process.exit(2);
};
if (part !== "generate" && part !== "train") fail(`--part must be generate or train, got ${part}`);
for (const [flag, n] of [
  ["width", width],
  ["latent", side],
  ["steps", steps],
  ["text-layers", textLayers],
] as const) {
  if (!(Number.isInteger(n) && n > 0)) fail(`--${flag} must be a positive integer, got ${value(flag, "")}`);
}
if (!["f32", "f16"].includes(value("dtype", "f32"))) fail(`--dtype must be f32 or f16, got ${value("dtype", "")}`);

const device = await Device.create();
Device.setDefault(device);
const dtype = resolveModelDType(value("dtype", "f32") as "f32" | "f16", device, "the benchmark's models");
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(3)} GiB`;
const seconds = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;
const weightBytes = (m: Module) =>
  m.parameters().reduce((n, p) => n + p.byteLength, 0) + [...m.namedBuffers()].reduce((n, [, b]) => n + b.byteLength, 0);
const live = () => device.memory().liveBytes;

console.log(
  `adapter: ${device.adapter.description}; load ${loadavg()[0]!.toFixed(1)}; part ${part}, ${dtype}, width ${width}, latents ${side}×${side}${part === "train" ? `, checkpointing ${isCheckpointing ? "on" : "off"}` : `, ${steps} steps`}`,
);

// full-size weights, exact (shape-only models: no GPU memory)
for (const d of ["f32", "f16"] as const) {
  const meta = { init: "meta" as const, dtype: d };
  const parts = [
    CLIPTextModel.fromConfig(SD15_TEXT_ENCODER_CONFIG, meta),
    UNet2DConditionModel.fromConfig(SD15_UNET_CONFIG, meta),
    AutoencoderKL.fromConfig(SD15_VAE_CONFIG, meta),
  ];
  console.log(
    `full-size SD1.5 weights in ${d}: text encoder ${gib(weightBytes(parts[0]!))}, UNet ${gib(weightBytes(parts[1]!))}, VAE ${gib(weightBytes(parts[2]!))}`,
  );
}

const unetConfig = { ...SD15_UNET_CONFIG, block_out_channels: [width, 2 * width, 4 * width, 4 * width] };
const vaeWidth = (c: number) => Math.max(32, Math.round((c * width) / 320 / 32) * 32);
const vaeConfig = { ...SD15_VAE_CONFIG, block_out_channels: (SD15_VAE_CONFIG.block_out_channels as number[]).map(vaeWidth) };
const textConfig = { ...SD15_TEXT_ENCODER_CONFIG, num_hidden_layers: textLayers };
const layer = { init: "default" as const, seed: 1, dtype };

/** Phase bookkeeping: live bytes at its start, its own peak, pooled bytes at its end. */
async function phase<T>(name: string, run: () => Promise<T> | T): Promise<T> {
  await device.sync();
  const before = live();
  device.pool.resetPeak();
  const start = performance.now();
  const result = await run();
  await device.sync();
  const { peakBytes, pooledBytes } = device.memory();
  console.log(
    `  ${name}: ${seconds(start)}, peak ${gib(peakBytes)} (${gib(peakBytes - before)} above the ${gib(before)} live at its start), pool holds ${gib(pooledBytes)} after`,
  );
  return result;
}

let overallPeak = 0;
const track = () => (overallPeak = Math.max(overallPeak, device.memory().peakBytes));

if (part === "generate") {
  const total = performance.now();
  // (1) text encoder: built, encodes uncond + cond, freed
  const context = await phase("text encoder (build, encode 2 prompts, free)", async () => {
    // zeros: a default init draws the [49408, 768] f32 token table in one binding, more than CPU adapters bind
    const text = CLIPTextModel.fromConfig(textConfig, { ...layer, init: "zeros" });
    console.log(`  text encoder weights ${gib(weightBytes(text))} (${textLayers} layers)`);
    const ids = tensor(
      Int32Array.from({ length: 2 * 77 }, (_, i) => (i % 77 === 0 ? 49406 : i % 77 < 6 ? 320 + i : 49407)),
      [2, 77],
      { dtype: "i32" },
    );
    const hidden = noGrad(() => text.forward(ids).lastHiddenState);
    const f32 = noGrad(() => toDType(hidden, "f32"));
    await device.sync();
    ids.dispose();
    if (f32 !== hidden) hidden.dispose();
    text.dispose();
    return f32;
  });
  track();
  // (2) UNet: steps of CFG DDIM from noise; the UNet stays (a pipeline keeps it for the next image)
  const unet = UNet2DConditionModel.fromConfig(unetConfig, layer);
  await device.sync();
  console.log(`  UNet weights ${gib(weightBytes(unet))} (${unet.parameterCount().toLocaleString("en")} params)`);
  const scheduler = DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
  scheduler.setTimesteps(steps);
  let latents = randn([1, 4, side, side], { seed: 2 });
  await phase(`UNet ${steps} CFG steps`, async () => {
    for (const t of scheduler.timesteps) {
      const next = noGrad(() => {
        const eps = unet.forward(concat([latents, latents], 0), t, context);
        const guided = add(narrow(eps, 0, 0, 1), mul(sub(narrow(eps, 0, 1, 1), narrow(eps, 0, 0, 1)), 7.5));
        return scheduler.step(guided, t, latents).prevSample;
      });
      latents.dispose();
      latents = next;
      await device.sync();
    }
  });
  track();
  context.dispose();
  // (3) VAE: built only now, decodes, freed
  await phase("VAE (build, decode, free)", async () => {
    const vae = AutoencoderKL.fromConfig(vaeConfig, layer);
    console.log(`  VAE weights ${gib(weightBytes(vae))}`);
    const image = noGrad(() => decodeWithinLimit(vae, mul(latents, 1 / 0.18215), device.maxBindingBytes));
    const values = await image.toArray();
    console.log(`  image [${image.shape}] ${values.every(Number.isFinite) ? "finite" : "HAS NON-FINITE VALUES"}`);
    image.dispose();
    vae.dispose();
  });
  track();
  latents.dispose();
  unet.dispose();
  console.log(`generation: peak ${gib(overallPeak)}, ${seconds(total)} wall`);
} else {
  const unet = UNet2DConditionModel.fromConfig(unetConfig, layer);
  unet.requiresGrad_(false);
  unet.setGradientCheckpointing(isCheckpointing);
  const adapter = injectLora(unet, { rank: 4, alpha: 4, init: "gaussian", targetModules: ["to_q", "to_k", "to_v", "to_out.0"], seed: 2 });
  await device.sync();
  const beforeOptimizer = live();
  const optimizer = new AdamW(adapter.parameters(), { lr: 1e-5, weightDecay: 1e-4 }); // m and v are allocated here
  await device.sync();
  const optimizerBytes = live() - beforeOptimizer;
  const scaler = dtype === "f16" ? new GradScaler({ initScale: 1024 }) : null;
  const scheduler = DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
  scheduler.setTimesteps(20);
  const g = new RandomGenerator(5);
  const shape = [4, side, side];
  const host = async () => {
    const x = g.randn(shape);
    const values = Float32Array.from(await x.toArray());
    x.dispose();
    return values;
  };
  const pair: SpoPair = {
    sample: await host(),
    winner: await host(),
    loser: await host(),
    timestep: 751,
    prompt: "p",
    step: 4,
    scoreWin: 1,
    scoreLose: 0,
  };
  const promptEncoder = {
    encode: (prompts: readonly string[]): Tensor => randn([prompts.length, 77, 768], { seed: prompts[0] === "" ? 3 : 4 }),
  };
  await device.sync();
  const loraBytes = adapter.parameters().reduce((n, p) => n + p.byteLength, 0);
  console.log(
    `  UNet weights ${gib(weightBytes(unet))} (${unet.parameterCount().toLocaleString("en")} params), LoRA ${(loraBytes / 2 ** 20).toFixed(2)} MiB f32`,
  );
  const total = performance.now();
  const stats = await phase("SPO minibatch (reference + policy CFG passes, loss, backward)", () =>
    spoMinibatchStep({ unet, scheduler, promptEncoder }, [pair], shape, { lossScale: scaler?.scale ?? 1 }),
  );
  track();
  const scaleUsed = scaler?.scale;
  const isTaken = await phase("AdamW step", async () => {
    if (scaler) return scaler.step(optimizer);
    optimizer.step();
    return true;
  });
  track();
  console.log(
    `  loss ${stats.loss.toFixed(4)}; AdamW state ${(optimizerBytes / 2 ** 20).toFixed(2)} MiB f32; step ${isTaken ? "taken" : `skipped (a non-finite gradient at loss scale ${scaleUsed}; the scale is now ${scaler!.scale})`}`,
  );
  console.log(`SPO update: peak ${gib(overallPeak)}, ${seconds(total)} wall`);
  optimizer.dispose();
  adapter.remove();
  unet.dispose();
}
// on a CPU adapter the "GPU" buffers live in this process (the resident set is what the machine
// paid) and the driver's threads run in this process too: CPU seconds measure the work whatever the load
const usage = process.resourceUsage();
console.log(`max resident set ${(usage.maxRSS / 2 ** 20).toFixed(2)} GiB`);
console.log(`cpu ${((usage.userCPUTime + usage.systemCPUTime) / 1e6).toFixed(0)} s`);
device.destroy();
