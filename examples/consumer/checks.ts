/**
 * What a new user does first with the packages, written against their published entries only:
 * a device, a matmul, one UNet denoising step, the tokenizer, and a whole tiny pipeline. Runs the
 * same in Node (node_main.ts) and in a page (browser_main.ts); only the tokenizer comes from each.
 * @module
 */
import type { CLIPTokenizer } from "@spo/clip";
import { CLIPTextModel } from "@spo/clip";
import { DDIMScheduler, SD15_SCHEDULER_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import { StableDiffusionPipeline } from "@spo/pipeline";
import { AutoencoderKL } from "@spo/vae";
import { Device, matmul, RandomGenerator, tensor } from "@spo/wgpu-tensor";
import { TINY_TEXT_CONFIG, TINY_UNET_CONFIG, TINY_VAE_CONFIG } from "./tiny_configs.ts";

/** The results a test compares with values worked out by hand. */
export interface CheckReport {
  adapter: string;
  /** [[1, 2, 3], [4, 5, 6]] · [[1, 0], [0, 1], [1, 1]], row-major. */
  matmul: number[];
  unetStepShape: number[];
  unetStepIsFinite: boolean;
  /** The ids of "a photo of a cat". */
  tokens: number[];
  imageSize: number[];
  /** How many different byte values the generated image holds (a constant image would be broken). */
  imageDistinctBytes: number;
  imageAlphaIsOpaque: boolean;
}

/** Runs every check on a new device and destroys it afterwards. */
export async function runChecks(tokenizer: CLIPTokenizer): Promise<CheckReport> {
  const device = await Device.create();
  Device.setDefault(device);
  try {
    const adapter = device.adapter.description || device.adapter.vendor;
    const product = matmul(tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([1, 0, 0, 1, 1, 1], [3, 2]));
    const matmulValues = Array.from(await product.toArray());
    product.dispose();

    const unet = UNet2DConditionModel.fromConfig(TINY_UNET_CONFIG);
    const scheduler = DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
    scheduler.setTimesteps(2);
    const generator = new RandomGenerator(7);
    const latents = generator.randn([1, 4, 8, 8]);
    const context = generator.randn([1, 77, 16]);
    const timestep = scheduler.timesteps[0]!;
    const noise = unet.forward(latents, timestep, context);
    const next = scheduler.step(noise, timestep, latents).prevSample;
    const nextValues = await next.toArray();
    const unetStepShape = [...next.shape];
    for (const t of [latents, context, noise, next]) t.dispose();
    unet.dispose();

    const tokens = tokenizer.encode("a photo of a cat", { padding: false });

    const pipe = new StableDiffusionPipeline({
      tokenizer,
      textEncoder: CLIPTextModel.fromConfig(TINY_TEXT_CONFIG),
      unet: UNet2DConditionModel.fromConfig(TINY_UNET_CONFIG),
      vae: AutoencoderKL.fromConfig(TINY_VAE_CONFIG),
      schedulerConfig: SD15_SCHEDULER_CONFIG,
    });
    const { images } = await pipe.generate({ prompt: "a red circle", seed: 3, width: 32, height: 32, numInferenceSteps: 2 });
    pipe.dispose();
    const image = images[0]!;
    const alpha = image.data.filter((_, i) => i % 4 === 3);
    return {
      adapter,
      matmul: matmulValues,
      unetStepShape,
      unetStepIsFinite: nextValues.every(Number.isFinite),
      tokens: [...tokens],
      imageSize: [image.width, image.height],
      imageDistinctBytes: new Set(image.data).size,
      imageAlphaIsOpaque: alpha.every((a) => a === 255),
    };
  } finally {
    device.destroy();
  }
}
