// StableDiffusionPipeline.generate against a reference of its sampling loop written here from the
// definitions: DDIM's timesteps and alphas from the scaled-linear schedule, classifier-free guidance
// ε = ε_u + s·(ε_c − ε_u) with the two branches run separately, the η = 0 DDIM update (Song et al.,
// eq. 12) on the host in f64, and the VAE decoding latents / scaling_factor. Each step starts from
// the pipeline's own latents of the step before, so errors cannot pile up and a wrong step is named.
// Only the UNet, the text encoder, the VAE and the initial noise are shared with the code under test.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type CLIPTokenizer, CLIPTextModel } from "@spo/clip";
import { loadDefaultClipTokenizer } from "@spo/clip/node";
import { SD15_SCHEDULER_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import { AutoencoderKL } from "@spo/vae";
import { type Device, noGrad, randn, type Tensor, tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { encodePrompts } from "../encoding/prompt_encoder.ts";
import { StableDiffusionPipeline } from "../pipeline/stable_diffusion_pipeline.ts";
import { TINY_TEXT_CONFIG, TINY_UNET_CONFIG, TINY_VAE_CONFIG } from "./_tiny_model_node.ts";

const PROMPT = "a red circle above a blue square";
const NEGATIVE = "blurry, dark";
const STEPS = 3;
const GUIDANCE = 5;
const SEED = 11;
const SIZE = 32; // pixels; latents are 8×8 (the tiny VAE's scale factor is 4)

let device: Device;
let tokenizer: CLIPTokenizer;
let pipe: StableDiffusionPipeline;

before(async () => {
  device = await testDevice();
  tokenizer = await loadDefaultClipTokenizer();
  pipe = new StableDiffusionPipeline({
    tokenizer,
    textEncoder: CLIPTextModel.fromConfig(TINY_TEXT_CONFIG),
    unet: UNet2DConditionModel.fromConfig(TINY_UNET_CONFIG),
    vae: AutoencoderKL.fromConfig(TINY_VAE_CONFIG),
    schedulerConfig: SD15_SCHEDULER_CONFIG,
  });
});

after(() => {
  pipe?.dispose();
  device?.destroy();
});

/** ᾱ_t of SD1.5's schedule: β linear in √β from 0.00085 to 0.012 over 1000 steps, squared. */
function alphasCumprod(): Float64Array {
  const start = Math.sqrt(0.00085);
  const end = Math.sqrt(0.012);
  const result = new Float64Array(1000);
  let product = 1;
  for (let t = 0; t < 1000; t++) {
    const beta = (start + ((end - start) * t) / 999) ** 2;
    product *= 1 - beta;
    result[t] = product;
  }
  return result;
}

/** DDIM's "leading" timesteps with steps_offset 1: 1000 // n apart, from the top. */
function ddimTimesteps(steps: number): number[] {
  const ratio = Math.floor(1000 / steps);
  return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + 1);
}

async function host(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.toArray());
}

/** One reference step from `latents` at `timestep`: both UNet branches, CFG and the DDIM update. */
async function referenceStep(
  latents: Float64Array,
  timestep: number,
  previous: number,
  contexts: { cond: Tensor; uncond: Tensor },
): Promise<{ next: Float64Array; branchGap: number }> {
  const { unet } = pipe.components;
  const x = tensor(Float32Array.from(latents), [1, 4, 8, 8]);
  const [uncond, cond] = noGrad(() => [unet.forward(x, timestep, contexts.uncond), unet.forward(x, timestep, contexts.cond)]);
  const epsU = await host(uncond!);
  const epsC = await host(cond!);
  for (const t of [x, uncond!, cond!]) t.dispose();
  const alphas = alphasCumprod();
  const alphaT = alphas[timestep]!;
  // set_alpha_to_one is false: the step below t = 1 uses ᾱ_0
  const alphaPrev = previous >= 0 ? alphas[previous]! : alphas[0]!;
  const next = new Float64Array(latents.length);
  let branchGap = 0;
  for (let i = 0; i < latents.length; i++) {
    const eps = epsU[i]! + GUIDANCE * (epsC[i]! - epsU[i]!);
    const x0 = (latents[i]! - Math.sqrt(1 - alphaT) * eps) / Math.sqrt(alphaT);
    next[i] = Math.sqrt(alphaPrev) * x0 + Math.sqrt(1 - alphaPrev) * eps;
    branchGap = Math.max(branchGap, Math.abs(epsC[i]! - epsU[i]!));
  }
  return { next, branchGap };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe("generate() against a reference of the sampling loop", () => {
  test("every DDIM step with guidance, and the decoded image, match the reference", async (t) => {
    const stepped: { timestep: number; latents: Float64Array }[] = [];
    const { images } = await pipe.generate({
      prompt: PROMPT,
      negativePrompt: NEGATIVE,
      numInferenceSteps: STEPS,
      guidanceScale: GUIDANCE,
      seed: SEED,
      width: SIZE,
      height: SIZE,
      scheduler: "ddim",
      onStep: async (info) => {
        stepped.push({ timestep: info.timestep, latents: await host(info.latents) });
      },
    });
    const timesteps = ddimTimesteps(STEPS);
    assert.deepEqual(
      stepped.map((s) => s.timestep),
      timesteps,
      "DDIM's leading timesteps [667, 334, 1]",
    );

    const { textEncoder, vae } = pipe.components;
    assert.ok(vae, "the tiny pipeline has a VAE");
    const contexts = noGrad(() => ({
      cond: encodePrompts(textEncoder, tokenizer, [PROMPT]).context,
      uncond: encodePrompts(textEncoder, tokenizer, [NEGATIVE]).context,
    }));
    // DDIM's initial noise sigma is 1: the first latents are the seed's standard normal noise
    const noise = randn([1, 4, 8, 8], { seed: SEED });
    let latents = await host(noise);
    noise.dispose();
    try {
      for (const [i, timestep] of timesteps.entries()) {
        const previous = timestep - Math.floor(1000 / STEPS);
        const { next, branchGap } = await referenceStep(latents, timestep, previous, contexts);
        const diff = maxAbsDiff(stepped[i]!.latents, next);
        t.diagnostic(
          `step ${i + 1} (t = ${timestep}): max |pipeline − reference| ${diff.toExponential(2)}, max |ε_c − ε_u| ${branchGap.toExponential(2)}`,
        );
        // the branches differ by far more than the tolerance, so swapping them or the scale fails
        assert.ok(branchGap * GUIDANCE > 100 * 2e-4, `the two branches are too close to tell apart (${branchGap})`);
        assert.ok(diff < 2e-4, `step ${i + 1} (t = ${timestep}) differs from the reference by ${diff}`);
        latents = stepped[i]!.latents;
      }
    } finally {
      contexts.cond.dispose();
      contexts.uncond.dispose();
    }

    // the VAE decodes latents / scaling_factor; pixels are (x / 2 + 0.5) clamped to [0, 1], as bytes
    const scaled = tensor(
      Float32Array.from(latents, (v) => v / TINY_VAE_CONFIG.scaling_factor),
      [1, 4, 8, 8],
    );
    const decoded = noGrad(() => vae.decode(scaled));
    const rgb = await host(decoded);
    for (const x of [scaled, decoded]) x.dispose();
    const image = images[0]!;
    let worst = 0;
    const plane = SIZE * SIZE;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        const expected = Math.round(Math.min(1, Math.max(0, rgb[c * plane + p]! / 2 + 0.5)) * 255);
        worst = Math.max(worst, Math.abs(image.data[p * 4 + c]! - expected));
      }
      assert.equal(image.data[p * 4 + 3], 255);
    }
    assert.ok(worst <= 1, `the image differs from the decoded reference by ${worst} levels`);
  });
});
