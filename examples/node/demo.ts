// The project's main job, runnable on any machine: `npm run demo`.
// Finds a WebGPU adapter, prints it, runs real work on it and checks the answers against plain JS,
// then runs a small diffusion sampling loop (tiny random UNet + DDIM) end to end.
import { DDIMScheduler, UNet2DConditionModel } from "@spo/diffusion-unet";
import { add, Device, gelu, matmul, mul, noGrad, randn, tensor, tidy } from "@spo/wgpu-tensor";

const device = await Device.create();
console.log(`WebGPU adapter: ${device.adapter.description} (${device.adapter.vendor}, ${device.adapter.isCpu ? "software" : "hardware"})`);
console.log(`features: ${[...device.features].sort().join(", ")}`);
let isCorrect = true;

// 1. An elementwise chain over a million values, checked element by element.
const count = 1 << 20;
const values = Float32Array.from({ length: count }, (_, i) => Math.sin(i) * 3);
let started = performance.now();
const y = gelu(add(mul(tensor(values), 0.5), 1));
const result = await y.toArray();
let worst = 0;
for (let i = 0; i < count; i++) {
  const v = Math.fround(values[i] * 0.5) + 1;
  worst = Math.max(worst, Math.abs(result[i] - 0.5 * v * (1 + erf(v / Math.SQRT2))));
}
isCorrect &&= worst < 1e-5;
console.log(
  `gelu(0.5·x + 1) over ${count} values: ${(performance.now() - started).toFixed(1)} ms, max |error| ${worst.toExponential(2)} → ${worst < 1e-5 ? "verified" : "WRONG"}`,
);

// 2. A 512×512×512 matmul, checked on 64 random entries against a float64 dot product.
const n = 512;
const a = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i * 0.37));
const b = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.11));
const at = tensor(a, [n, n]);
const bt = tensor(b, [n, n]);
await matmul(at, bt).toArray(); // warm-up (compiles the kernel)
started = performance.now();
const c = await matmul(at, bt).toArray();
const matmulMs = performance.now() - started;
let matmulError = 0;
for (let s = 0; s < 64; s++) {
  const i = (s * 131) % n;
  const j = (s * 197) % n;
  let dot = 0;
  for (let k = 0; k < n; k++) dot += a[i * n + k] * b[k * n + j];
  matmulError = Math.max(matmulError, Math.abs(c[i * n + j] - dot) / (1 + Math.abs(dot)));
}
isCorrect &&= matmulError < 1e-4;
console.log(
  `matmul 512³: ${matmulMs.toFixed(1)} ms (${((2 * n ** 3) / matmulMs / 1e6).toFixed(2)} GFLOP/s incl. readback), max rel. error ${matmulError.toExponential(2)} → ${matmulError < 1e-4 ? "verified" : "WRONG"}`,
);

// 3. Ten DDIM steps of a tiny random conditional UNet (the SD1.5 architecture, scaled down).
const unet = UNet2DConditionModel.fromConfig({
  block_out_channels: [32, 64],
  layers_per_block: 1,
  norm_num_groups: 8,
  cross_attention_dim: 32,
  attention_head_dim: 4,
  down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
  sample_size: 16,
});
const scheduler = DDIMScheduler.fromConfig({
  beta_schedule: "scaled_linear",
  beta_start: 0.00085,
  beta_end: 0.012,
  set_alpha_to_one: false,
  steps_offset: 1,
  clip_sample: false,
});
scheduler.setTimesteps(10);
const context = randn([1, 77, 32], { seed: 7 });
let latents = randn([1, 4, 16, 16], { seed: 42 });
started = performance.now();
for (const t of scheduler.timesteps) {
  const next = tidy(() => noGrad(() => scheduler.step(unet.forward(latents, t, context), t, latents).prevSample));
  latents.dispose();
  latents = next;
}
const final = await latents.toArray();
const allFinite = final.every(Number.isFinite);
isCorrect &&= allFinite;
console.log(
  `tiny UNet (${unet.parameterCount().toLocaleString("en")} parameters), 10 DDIM steps: ${(performance.now() - started).toFixed(0)} ms → ${allFinite ? "finite latents" : "NON-FINITE"}`,
);

device.destroy();
if (!isCorrect) process.exit(1);

function erf(v: number): number {
  let term = v;
  let sum = v;
  for (let k = 1; k < 60; k++) {
    term *= (-v * v) / k;
    sum += term / (2 * k + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
