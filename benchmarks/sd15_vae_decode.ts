// The full-size SD1.5 VAE (random weights) decoding 64×64 latents to a 512×512 image the way the
// pipeline does: whole where the adapter binds enough, else in tiles (decodeWithinLimit). On a
// CPU adapter (128 MiB per binding) the plain decode's 256 MiB feature map does not fit.
//   node --conditions=@spo/source --import tsx benchmarks/sd15_vae_decode.ts
import { loadavg } from "node:os";
import { AutoencoderKL, decodeWithinLimit, largestDecodeActivationBytes, SD15_VAE_CONFIG, tileLatentSizeWithin } from "@spo/vae";
import { Device, noGrad, randn } from "@spo/wgpu-tensor";

const device = await Device.create();
Device.setDefault(device);
console.log(`adapter: ${device.adapter.description}; binds ${device.maxBindingBytes / 2 ** 20} MiB at most`);
const vae = AutoencoderKL.fromConfig(SD15_VAE_CONFIG, { init: "default", seed: 1 });
const needed = largestDecodeActivationBytes(vae.config, 1, 64, 64);
const tile = needed > device.maxBindingBytes ? tileLatentSizeWithin(vae.config, device.maxBindingBytes) : null;
console.log(
  `plain decode needs ${needed / 2 ** 20} MiB in one binding: ${tile === null ? "decoding whole" : `decoding in ${tile}-latent tiles`}`,
);
const z = randn([1, 4, 64, 64], { seed: 2 });
await device.sync();
const started = performance.now();
const cpuBefore = process.cpuUsage();
device.pool.resetPeak();
const image = noGrad(() => decodeWithinLimit(vae, z, device.maxBindingBytes));
const values = (await image.toArray()) as Float32Array;
const cpu = process.cpuUsage(cpuBefore);
console.log(
  `decoded [${image.shape}] in ${((performance.now() - started) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} CPU-s (load ${loadavg()[0]!.toFixed(1)}), ` +
    `peak ${(device.memory().peakBytes / 2 ** 30).toFixed(2)} GiB, ${values.every(Number.isFinite) ? "finite" : "HAS NON-FINITE VALUES"}`,
);
vae.dispose();
device.destroy();
