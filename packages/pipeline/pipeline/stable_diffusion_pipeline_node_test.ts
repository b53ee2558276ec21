import assert from "node:assert/strict";
import { rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { tiledDecode, tileLatentSizeWithin } from "@spo/vae";
import { Device, div, loadTensorInto, NonFiniteError, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { differingBytes } from "../test/_pixels.ts";
import { TINY_VAE_CONFIG, writeTinyModel } from "../test/_tiny_model_node.ts";
import { ModelFolderError } from "./load_pipeline.ts";
import { loadStableDiffusionPipeline } from "./load_pipeline_node.ts";
import { tensorToRgba } from "./images.ts";
import { StableDiffusionPipeline } from "./stable_diffusion_pipeline.ts";

let device: Device;
let folder: string;
let pipe: StableDiffusionPipeline;

before(async () => {
  device = await testDevice();
  folder = await writeTinyModel({ taesd: true });
  pipe = await loadStableDiffusionPipeline(folder, { taesd: join(folder, "taesd") });
});

after(async () => {
  pipe?.dispose();
  device?.destroy();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("StableDiffusionPipeline on a tiny random model folder", () => {
  test("the same seed gives the same pixels twice and another seed gives other pixels", async () => {
    const options = {
      prompt: "a (red:1.3) cat, [blurry] <lora:style:0.6>",
      negativePrompt: "ugly",
      numInferenceSteps: 2,
      guidanceScale: 5,
      width: 32,
      height: 32,
    };
    const steps: number[] = [];
    const first = await pipe.generate({ ...options, seed: 7, onStep: ({ step }) => void steps.push(step) });
    const second = await pipe.generate({ ...options, seed: 7 });
    const other = await pipe.generate({ ...options, seed: 8 });
    const [a, b, c] = [first.images[0]!, second.images[0]!, other.images[0]!];
    assert.equal(a.width, 32);
    assert.equal(a.height, 32);
    assert.equal(a.data.length, 32 * 32 * 4);
    assert.equal(differingBytes(a.data, b.data), 0);
    assert.ok(differingBytes(a.data, c.data) > 100, "seed 8 should change most pixels");
    assert.deepEqual(steps, [1, 2]);
    assert.deepEqual(
      first.loraTags.map((t) => [t.name, t.unetMultiplier]),
      [["style", 0.6]],
    );
  });

  test("the Euler ancestral sampler is reproducible too and differs from DDIM", async () => {
    const options = { prompt: "a dog", numInferenceSteps: 2, guidanceScale: 3, seed: 3, width: 32, height: 32 };
    const a = await pipe.generate({ ...options, scheduler: "euler_a" });
    const b = await pipe.generate({ ...options, scheduler: "euler_a" });
    const ddim = await pipe.generate({ ...options, scheduler: "ddim" });
    assert.equal(differingBytes(a.images[0]!.data, b.images[0]!.data), 0);
    assert.ok(differingBytes(a.images[0]!.data, ddim.images[0]!.data) > 0);
  });

  test("every sampler the README lists, DDPM included, runs from SD1.5's scheduler config and is reproducible", async () => {
    const options = { prompt: "a dog", numInferenceSteps: 2, guidanceScale: 3, seed: 3, width: 16, height: 16 };
    for (const scheduler of ["ddim", "ddpm", "euler_a", "dpmpp_2m", "dpmpp_2m_karras"] as const) {
      const a = await pipe.generate({ ...options, scheduler });
      const b = await pipe.generate({ ...options, scheduler });
      assert.equal(differingBytes(a.images[0]!.data, b.images[0]!.data), 0, scheduler);
    }
  });

  test("the step callback's TAESD preview decodes the current latents at 8× their size", async () => {
    const taesd = pipe.components.taesd!;
    const previews: { width: number; height: number; matches: boolean }[] = [];
    await pipe.generate({
      prompt: "a lighthouse",
      numInferenceSteps: 2,
      guidanceScale: 3,
      seed: 4,
      width: 32,
      height: 32,
      onStep: async ({ latents, preview }) => {
        const [image] = await preview();
        const rgb = tidy(() => ("decoder" in taesd ? taesd.decode(latents) : taesd.forward(latents)));
        const direct = await tensorToRgba(rgb, 1, 0);
        rgb.dispose();
        previews.push({ width: image!.width, height: image!.height, matches: differingBytes(image!.data, direct[0]!.data) === 0 });
      },
    });
    // the tiny VAE has scale factor 4 (8×8 latents for 32×32 pixels); TAESD always upsamples 8×
    assert.deepEqual(previews, [
      { width: 64, height: 64, matches: true },
      { width: 64, height: 64, matches: true },
    ]);
  });

  test("a preview without TAESD says what is missing", async () => {
    const bare = new StableDiffusionPipeline({ ...pipe.components, taesd: undefined });
    await assert.rejects(
      bare.generate({ prompt: "a", numInferenceSteps: 1, width: 32, height: 32, onStep: ({ preview }) => preview().then(() => {}) }),
      /no TAESD decoder/,
    );
  });

  test("decodes in VAE tiles when the whole decode would exceed the device's storage binding limit", async () => {
    // 64×64 pixels with a VAE twice as wide: its widest feature map is 32×64×64 f32 = 512 KiB,
    // above 300 000 bytes, while the UNet (no CFG, batch 1) stays below it
    const wideVae = { ...TINY_VAE_CONFIG, block_out_channels: [16, 32, 32], norm_num_groups: 8 };
    const wideFolder = await writeTinyModel({ vaeConfig: wideVae });
    const small = await Device.create({ maxBindingBytes: 300_000 });
    const smallPipe = await loadStableDiffusionPipeline(wideFolder, { device: small });
    try {
      let last: Float32Array | undefined;
      const options = { prompt: "a tower", numInferenceSteps: 1, guidanceScale: 1, seed: 2, width: 64, height: 64 };
      const { images } = await smallPipe.generate({
        ...options,
        onStep: async ({ latents }) => void (last = (await latents.toArray()) as Float32Array),
      });
      const vae = smallPipe.components.vae!; // a latent-space model
      const tile = tileLatentSizeWithin(vae.config, 300_000)!;
      assert.ok(tile < 16, "the decode is tiled");
      const latents = tensor(last!, [1, 4, 16, 16], { device: small });
      const rgb = tidy(() => tiledDecode(vae, div(latents, vae.config.scalingFactor), { tileLatentSize: tile }));
      const [expected] = await tensorToRgba(rgb);
      rgb.dispose();
      latents.dispose();
      assert.equal(differingBytes(images[0]!.data, expected!.data), 0);
    } finally {
      smallPipe.dispose();
      small.destroy();
      await rm(wideFolder, { recursive: true, force: true });
    }
  });

  test("rejects a guidance scale that is not a finite number, and a clip skip past the text encoder's layers, before any GPU work", async () => {
    const before = device.memory().liveBuffers;
    for (const guidanceScale of [Number.NaN, Number.POSITIVE_INFINITY, "7" as unknown as number]) {
      await assert.rejects(
        pipe.generate({ prompt: "a", guidanceScale, width: 16, height: 16 }),
        (error: Error) =>
          error instanceof RangeError && /Cannot generate with guidanceScale .*: it must be a finite number/.test(error.message),
      );
    }
    await assert.rejects(
      pipe.generate({ prompt: "a", clipSkip: 2, width: 16, height: 16 }),
      /clipSkip 2: it must be an integer from 0 to 1 \(the text encoder has 2 layers\)/,
    );
    assert.equal(device.memory().liveBuffers, before);
  });

  test("fails naming the stage when sampling or the text encoder produce NaN or Inf, instead of writing a black image", async () => {
    const options = { prompt: "a cat", numInferenceSteps: 1, width: 16, height: 16 };
    await assert.rejects(pipe.generate({ ...options, guidanceScale: 1e308 }), (error: Error) => {
      assert.ok(error instanceof NonFiniteError, String(error));
      assert.match(
        error.message,
        /^Cannot use the final latents \(after 1 ddim steps at guidance 1e\+308\): element \d+ of \[1, 4, 4, 4\] is (NaN|-?Infinity)/,
      );
      return true;
    });
    const withNaN = async (tensor: Tensor, run: () => Promise<unknown>) => {
      const saved = await tensor.toArray();
      const poisoned = Float32Array.from(saved);
      poisoned[0] = Number.NaN;
      loadTensorInto(tensor, { shape: tensor.shape, data: poisoned });
      try {
        await run();
      } finally {
        loadTensorInto(tensor, { shape: tensor.shape, data: saved });
      }
    };
    const { unet, textEncoder } = pipe.components;
    await withNaN(unet.conv_out.bias!, () =>
      assert.rejects(pipe.generate({ ...options, guidanceScale: 3 }), /^NonFiniteError: Cannot use the final latents/),
    );
    const finalNorm = textEncoder.stateDict().get("text_model.final_layer_norm.bias")!;
    await withNaN(finalNorm, () =>
      assert.rejects(pipe.generate({ ...options, guidanceScale: 3 }), /Cannot use the prompt embeddings \(text encoder output\)/),
    );
    const after = await pipe.generate({ ...options, guidanceScale: 3 });
    assert.equal(after.images.length, 1, "the pipeline works again once the weights are finite");
  });

  test("refuses the option names it had before diffusers' (steps, cfgScale, batchSize) instead of ignoring them", async () => {
    const renamed = { steps: "numInferenceSteps", cfgScale: "guidanceScale", batchSize: "numImagesPerPrompt" };
    for (const [old, current] of Object.entries(renamed)) {
      const options = { prompt: "a", width: 16, height: 16, [old]: 2 } as unknown as Parameters<typeof pipe.generate>[0];
      await assert.rejects(
        pipe.generate(options),
        (error: Error) =>
          error instanceof TypeError &&
          error.message === `Cannot generate with option "${old}": it is called "${current}" (diffusers' name)`,
      );
    }
  });

  test("rejects a size that is not a multiple of 8 before any GPU work", async () => {
    await assert.rejects(pipe.generate({ prompt: "a", width: 30, height: 32 }), /width 30: it must be a positive multiple of 8/);
  });
});

describe("loadStableDiffusionPipeline", () => {
  test("leaves every loaded model frozen and in eval mode", () => {
    const { textEncoder, unet, vae, taesd } = pipe.components;
    for (const [name, model] of Object.entries({ textEncoder, unet, vae: vae!, taesd: taesd! })) {
      const trainable = model.parameters().filter((p) => p.requiresGrad).length;
      assert.equal(trainable, 0, `${name} has ${trainable} parameters that require gradients`);
      assert.equal(model.isTraining, false, `${name} is in training mode`);
    }
  });

  test("names a missing file of the model folder", async () => {
    const broken = await writeTinyModel();
    try {
      await unlink(join(broken, "vae", "diffusion_pytorch_model.safetensors"));
      await assert.rejects(loadStableDiffusionPipeline(broken), (error: Error) => {
        assert.ok(error instanceof ModelFolderError);
        assert.match(error.message, /missing vae\/diffusion_pytorch_model\.safetensors/);
        return true;
      });
      await assert.rejects(loadStableDiffusionPipeline(join(broken, "nope")), /the folder does not exist/);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  test("names the part and the key when a weight file lacks a tensor", async () => {
    const key = "conv_in.weight";
    const broken = await writeTinyModel({ dropUNetKey: key });
    try {
      await assert.rejects(loadStableDiffusionPipeline(broken), (error: Error) => {
        assert.ok(error instanceof ModelFolderError);
        assert.match(error.message, /the UNet/);
        assert.ok(error.message.includes(key), error.message);
        return true;
      });
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});
