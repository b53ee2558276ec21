// One classifier-free-guidance step of the full-size SD1.5 UNet with random weights:
// batch 2 (unconditional + conditional), 64×64 latents, 77×768 context. Prints time and memory.
//   node --conditions=@spo/source --import tsx benchmarks/sd15_unet_step.ts [--steps N]
// Step 1 includes compiling every kernel variant; later steps show the steady state.
import { SD15_UNET_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import { loadavg } from "node:os";
import { Device, noGrad, randn } from "@spo/wgpu-tensor";

const steps = Number(process.argv[process.argv.indexOf("--steps") + 1]) || 1;
const device = await Device.create();
console.log(`adapter: ${device.adapter.description}`);

let started = performance.now();
const unet = UNet2DConditionModel.fromConfig(SD15_UNET_CONFIG, { init: "default", seed: 1 });
await device.sync();
console.log(
  `built ${unet.parameterCount().toLocaleString("en")} parameters in ${((performance.now() - started) / 1000).toFixed(1)} s, ${(device.memory().liveBytes / 2 ** 30).toFixed(2)} GiB live`,
);

const latents = randn([2, 4, 64, 64], { seed: 2 });
const context = randn([2, 77, 768], { seed: 3 });
device.pool.resetPeak();
for (let step = 0; step < steps; step++) {
  started = performance.now();
  const cpuBefore = process.cpuUsage();
  const out = noGrad(() => unet.forward(latents, [981, 981], context));
  const values = await out.toArray();
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const allFinite = values.every(Number.isFinite);
  // on a CPU adapter the driver's threads run in this process: CPU seconds are the work, whatever the load
  console.log(
    `step ${step + 1}: ${elapsed.toFixed(1)} s wall, ${cpuSeconds.toFixed(0)} CPU-s (load ${loadavg()[0]!.toFixed(1)}), output [${out.shape}] ${allFinite ? "finite" : "HAS NON-FINITE VALUES"}, peak ${(device.memory().peakBytes / 2 ** 30).toFixed(2)} GiB`,
  );
  out.dispose();
}
unet.dispose();
device.destroy();
