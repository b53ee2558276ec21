import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DDIMScheduler, type DDIMStepOutput, EulerAncestralDiscreteScheduler } from "../../../packages/diffusion-unet/mod.ts";
import { assertNear, read, SD15 } from "../../../packages/diffusion-unet/schedulers/_testing.ts";
import { add, type Device, mul, type Tensor, tensor } from "../../../packages/wgpu-tensor/mod.ts";
import { seededValues, testDevice } from "../../../packages/wgpu-tensor/testing/mod.ts";
import { type ParityTensor, schedulerParityCase, type SchedulerManifest } from "./scheduler_case.ts";
import {
  descriptionFor,
  etaIn,
  etaOfField,
  fakeModelScaleIn,
  schedulerClassOf,
  splitOutputName,
  stepCountIn,
} from "./scheduler_manifest.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

function hostTensor(shape: number[], seed: number): ParityTensor & { data: Float32Array } {
  return {
    shape,
    data: Float32Array.from(
      seededValues(
        seed,
        shape.reduce((a, b) => a * b, 1),
      ),
    ),
  };
}

const gpu = (t: ParityTensor) => tensor(Float32Array.from(t.data), [...t.shape]);

describe("the manifest readers", () => {
  test("find the class, the variant, the group and the facts the description states", () => {
    const ddim = { name: "x", kind: "scheduler", config: {}, inputs: [], outputs: [], source: "diffusers@0.26.1 DDIMScheduler (step)" };
    assert.equal(schedulerClassOf(ddim), "DDIMScheduler");
    assert.equal(schedulerClassOf({ ...ddim, source: "", name: "scheduler_euler_a_leading" }), "EulerAncestralDiscreteScheduler");
    assert.deepEqual(splitOutputName("karras.samples", ["plain", "karras"]), { variant: "karras", group: "", field: "samples" });
    assert.deepEqual(splitOutputName("step.eta1.prev_sample", [""]), { variant: "", group: "step", field: "eta1.prev_sample" });
    assert.throws(() => splitOutputName("other.samples", ["plain", "karras"]), /starts with none of the config variants/);
    const description =
      "timesteps_<n>: set_timesteps(n). step.*: step after set_timesteps(10) with eta = 0.5. traj.samples: DDIM eta 0 over set_timesteps(7) with eps = 0.25 * x + traj.c";
    assert.equal(stepCountIn(descriptionFor(description, "step")), 10);
    assert.equal(stepCountIn(descriptionFor(description, "traj")), 7);
    assert.equal(stepCountIn(description), undefined);
    assert.equal(etaIn(descriptionFor(description, "step")), 0.5);
    assert.equal(etaIn(descriptionFor(description, "traj")), 0);
    assert.equal(fakeModelScaleIn(descriptionFor(description, "traj")), 0.25);
    assert.deepEqual(etaOfField("eta0p5.prev_sample"), { eta: 0.5, name: "prev_sample" });
    assert.deepEqual(etaOfField("prev_sample"), { eta: undefined, name: "prev_sample" });
  });
});

describe("schedulerParityCase", () => {
  test("computes a DDIM case with another config, step count, η and fake model from the manifest alone", async () => {
    const config = { ...SD15, timestep_spacing: "trailing", prediction_type: "v_prediction", set_alpha_to_one: true };
    const shape = [3, 2, 5, 5];
    const tensors = new Map<string, ParityTensor>([
      ["step.model_output", hostTensor(shape, 1)],
      ["step.sample", hostTensor(shape, 2)],
      ["step.variance_noise", hostTensor(shape, 3)],
      ["step.timesteps", { shape: [2], data: [899, 99] }],
      ["traj.x_T", hostTensor(shape, 4)],
      ["traj.c", hostTensor(shape, 5)],
    ]);
    const manifest: SchedulerManifest = {
      name: "ddim_hidden_like",
      kind: "scheduler",
      description:
        "step.*: scheduler.step after set_timesteps(10) for each t in step.timesteps. traj.samples: DDIM eta 0 over set_timesteps(6) from traj.x_T with the fake model eps = 0.3 * x + traj.c.",
      config,
      inputs: [...tensors.keys()],
      outputs: ["betas", "timesteps_10", "step.eta0p5.prev_sample", "step.eta1.pred_original_sample", "traj.timesteps", "traj.samples"],
      shapes: { "traj.samples": [6, ...shape] },
      source: "diffusers@0.26.1 DDIMScheduler (set_timesteps, step)",
    };
    const outputs = await schedulerParityCase(manifest, tensors);

    const scheduler = DDIMScheduler.fromConfig(config);
    assert.deepEqual(Array.from(outputs.get("betas")!.data), Array.from(scheduler.betas));
    scheduler.setTimesteps(10);
    assert.deepEqual(Array.from(outputs.get("timesteps_10")!.data), [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    const [mo, x, z] = ["step.model_output", "step.sample", "step.variance_noise"].map((k) => gpu(tensors.get(k)!));
    const stepRows = async (eta: number, pick: (o: DDIMStepOutput) => Tensor) => [
      ...(await read(pick(scheduler.step(mo, 899, x, { eta, noise: z })))),
      ...(await read(pick(scheduler.step(mo, 99, x, { eta, noise: z })))),
    ];
    assertNear(outputs.get("step.eta0p5.prev_sample")!.data, await stepRows(0.5, (o) => o.prevSample), 0, 0, "η 0.5 prev_sample");
    assertNear(outputs.get("step.eta1.pred_original_sample")!.data, await stepRows(1, (o) => o.predOriginalSample), 0, 0, "η 1 x̂₀");

    scheduler.setTimesteps(6);
    assert.deepEqual(Array.from(outputs.get("traj.timesteps")!.data), scheduler.timesteps);
    let sample = gpu(tensors.get("traj.x_T")!);
    const c = gpu(tensors.get("traj.c")!);
    const rows: number[] = [];
    for (const t of scheduler.timesteps) {
      sample = scheduler.step(add(mul(sample, 0.3), c), t, sample).prevSample;
      rows.push(...(await read(sample)));
    }
    assert.deepEqual(outputs.get("traj.samples")!.shape, [6, ...shape]);
    assertNear(outputs.get("traj.samples")!.data, rows, 0, 0, "trajectory");
  });

  test("computes each config variant of an Euler ancestral case with shared inputs", async () => {
    const shape = [1, 4, 3, 3];
    const steps = 5;
    const variants = { linspace: { ...SD15, timestep_spacing: "linspace" }, leading: { ...SD15, timestep_spacing: "leading" } };
    const tensors = new Map<string, ParityTensor>([
      ["noise", hostTensor(shape, 1)],
      ["c", hostTensor(shape, 2)],
      ["step_noise", hostTensor([steps, ...shape], 3)],
    ]);
    const outputs = ["linspace.init_noise_sigma", "linspace.samples", "leading.init_noise_sigma", "leading.sigmas", "leading.samples"];
    const manifest: SchedulerManifest = {
      name: "euler_variants",
      kind: "scheduler",
      description: `over set_timesteps(${steps}); eps = 0.1 * model_inputs[i] + c`,
      config: variants,
      inputs: [...tensors.keys()],
      outputs,
      shapes: { "linspace.samples": [steps, ...shape], "leading.samples": [steps, ...shape] },
      source: "diffusers@0.26.1 EulerAncestralDiscreteScheduler",
    };
    const computed = await schedulerParityCase(manifest, tensors);
    for (const [variant, config] of Object.entries(variants)) {
      const scheduler = EulerAncestralDiscreteScheduler.fromConfig(config);
      scheduler.setTimesteps(steps);
      assert.deepEqual(Array.from(computed.get(`${variant}.init_noise_sigma`)!.data), [Math.fround(scheduler.initNoiseSigma)]);
      let x = mul(gpu(tensors.get("noise")!), scheduler.initNoiseSigma);
      const c = gpu(tensors.get("c")!);
      const noise = tensors.get("step_noise")!.data as Float32Array;
      const size = noise.length / steps;
      const rows: number[] = [];
      for (const [i, t] of scheduler.timesteps.entries()) {
        const eps = add(mul(scheduler.scaleModelInput(x, t), 0.1), c);
        x = scheduler.step(eps, t, x, { noise: tensor(noise.slice(i * size, (i + 1) * size), shape) }).prevSample;
        rows.push(...(await read(x)));
      }
      assertNear(computed.get(`${variant}.samples`)!.data, rows, 0, 0, `${variant} samples`);
    }
    assert.deepEqual(computed.get("leading.sigmas")!.shape, [steps + 1]);
  });

  test("names an output it does not know", async () => {
    const manifest: SchedulerManifest = {
      name: "odd",
      kind: "scheduler",
      config: SD15,
      inputs: [],
      outputs: ["alphas_cumprod", "something_else"],
      source: "diffusers@0.26.1 DDIMScheduler",
    };
    await assert.rejects(schedulerParityCase(manifest, new Map()), /Cannot compute output "something_else" of case "odd"/);
  });
});
