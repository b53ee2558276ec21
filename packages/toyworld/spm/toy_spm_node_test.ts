// The shipped toy preference models and the frozen denoiser that trains them.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { StepPreferenceScorer } from "@spo/step-preference-model";
import { type Device, narrow, tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { loadToyModel, TOY_BASE_MODEL_URL } from "../model/load_toy_model_node.ts";
import { renderPrompt } from "../world/render.ts";
import { loadToySpm, TOY_SPM_URL } from "./load_toy_spm_node.ts";
import { toyStepDenoiser } from "./toy_denoiser.ts";
import { TOY_SPM_CONFIG } from "./toy_spm_config.ts";

/** SHA-256 of the shipped weight files, recorded with `sha256sum` when they were committed. */
const SHIPPED_SHA256: Record<string, string> = {
  "step_aware/model.safetensors": "ec8d020d9ec7089e3c4116350b5efb3db7f316cd7529c99e0d8877a2d00c2394",
  "step_agnostic/model.safetensors": "a6ffa681913d77d7dd4c41d6309fceea9ae53135dd7217319093b43097c5bfdd",
};

const PROMPTS = ["a large red circle in the center on a white background", "a small blue square at the top on a black background"];

let device: Device;
let pipe: Awaited<ReturnType<typeof loadToyModel>>;
let stepAware: StepPreferenceScorer;
let stepAgnostic: StepPreferenceScorer;
before(async () => {
  device = await testDevice();
  pipe = await loadToyModel(TOY_BASE_MODEL_URL, { device });
  stepAware = await loadToySpm("step-aware", { device });
  stepAgnostic = await loadToySpm("step-agnostic", { device });
});
after(() => {
  pipe.dispose();
  stepAware.model.dispose();
  stepAgnostic.model.dispose();
});

function images(prompts: readonly string[]) {
  const values = prompts.flatMap((p, i) => [...renderPrompt(p, { seed: i })]);
  return tensor(Float32Array.from(values), [prompts.length, 3, 16, 16], { device });
}

describe("the shipped toy preference models", () => {
  test("their weight files match the recorded checksums and their configs the package's", async () => {
    for (const [file, sha] of Object.entries(SHIPPED_SHA256)) {
      const bytes = await readFile(new URL(file, TOY_SPM_URL));
      assert.equal(createHash("sha256").update(bytes).digest("hex"), sha, file);
    }
    for (const [folder, isTimeConditioned] of [
      ["step_aware", true],
      ["step_agnostic", false],
    ] as const) {
      const config = JSON.parse(await readFile(new URL(`${folder}/config.json`, TOY_SPM_URL), "utf8"));
      assert.deepEqual(config, { ...TOY_SPM_CONFIG, is_time_conditioned: isTimeConditioned });
    }
    assert.equal(stepAware.model.isTimeConditioned, true);
    assert.equal(stepAgnostic.model.isTimeConditioned, false);
  });

  test("the step-aware model's score of one image depends on t; the step-agnostic one's does not", async () => {
    const one = renderPrompt(PROMPTS[0]!, { seed: 3 });
    const x = tensor(Float32Array.from([...one, ...one, ...one]), [3, 3, 16, 16], { device });
    const times = [0, 501, 951];
    const aware = await stepAware.score(x, [PROMPTS[0]!, PROMPTS[0]!, PROMPTS[0]!], times);
    const agnostic = await stepAgnostic.score(x, [PROMPTS[0]!, PROMPTS[0]!, PROMPTS[0]!], times);
    assert.ok(aware.every(Number.isFinite) && agnostic.every(Number.isFinite));
    assert.ok(new Set(aware).size === 3, `step-aware scores ${aware}`);
    assert.ok(Math.abs(agnostic[0]! - agnostic[2]!) < 1e-4 * (1 + Math.abs(agnostic[0]!)), `step-agnostic scores ${agnostic}`);
    x.dispose();
  });

  test("the accuracy report beside the models has SPO's five timesteps for both", async () => {
    const report = JSON.parse(await readFile(new URL("accuracy.json", TOY_SPM_URL), "utf8"));
    for (const kind of ["step-aware", "step-agnostic"]) {
      assert.deepEqual(
        report.accuracy[kind].map((a: { timestep: number }) => a.timestep),
        [0, 251, 501, 701, 951],
      );
      for (const a of report.accuracy[kind]) assert.ok(a.accuracy >= 0 && a.accuracy <= 1 && a.count > 0);
    }
  });
});

test("a folder without the model names the folder and the command that trains one", async () => {
  const folder = join(tmpdir(), "spo-no-toy-spm");
  await assert.rejects(loadToySpm("step-agnostic", { folder }), (error: unknown) => {
    const message = (error as Error).message;
    return message.includes(join(folder, "step_agnostic")) && message.includes("npm run toyworld:train-spm");
  });
});

describe("the toy denoiser (frozen base model, CFG, x̂0)", () => {
  test("at t = 1 x̂0 is the clean image up to the model's small error; a row's x̂0 depends only on its image, prompt, t and seed", async () => {
    const denoiser = toyStepDenoiser(pipe.components);
    const x = images(PROMPTS);
    const clean = await x.toArray();
    const near = await denoiser({ images: x, prompts: PROMPTS, timesteps: [1, 1], noiseSeeds: [5, 6] });
    const values = await near.toArray();
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - clean[i]!));
    // x̂0 = √ᾱ·x_t − √(1−ᾱ)·v̂ with 1 − ᾱ₁ ≈ 2e-4: the noise and the prediction enter ×0.014
    assert.ok(worst < 0.1, `max |x̂0 − x0| at t = 1: ${worst}`);
    const far = await denoiser({ images: x, prompts: PROMPTS, timesteps: [801, 301], noiseSeeds: [5, 6] });
    const one = narrow(x, 0, 1, 1);
    const alone = await denoiser({ images: one, prompts: [PROMPTS[1]!], timesteps: [301], noiseSeeds: [6] });
    const farValues = await far.toArray();
    const aloneValues = await alone.toArray();
    const half = farValues.length / 2;
    let gap = 0;
    for (let i = 0; i < half; i++) gap = Math.max(gap, Math.abs(farValues[half + i]! - aloneValues[i]!));
    assert.ok(gap < 1e-4, `row 1 alone vs in a batch: ${gap}`);
    for (const t of [x, near, far, one, alone]) t.dispose();
  });
});
