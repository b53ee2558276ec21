import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DDIMScheduler } from "./ddim_scheduler.ts";
import { DDPMScheduler } from "./ddpm_scheduler.ts";
import { DPMSolverMultistepScheduler } from "./dpm_solver_multistep_scheduler.ts";
import { EulerAncestralDiscreteScheduler } from "./euler_ancestral_discrete_scheduler.ts";
import { parseDiffusersJson, SD15_SCHEDULER_CONFIG, UnsupportedConfigError } from "./scheduler_config.ts";

describe("fromConfig", () => {
  test("reads SD1.5's PNDM scheduler config into every scheduler, ignoring keys of sibling schedulers", () => {
    const ddim = DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
    assert.equal(ddim.config.betaSchedule, "scaled_linear");
    assert.equal(ddim.config.setAlphaToOne, false);
    assert.equal(ddim.config.stepsOffset, 1);
    assert.equal(ddim.config.clipSample, false);
    assert.equal(ddim.config.timestepSpacing, "leading");
    assert.equal(ddim.finalAlphaCumprod, ddim.alphasCumprod[0]);
    assert.equal(EulerAncestralDiscreteScheduler.fromConfig(SD15_SCHEDULER_CONFIG).config.timestepSpacing, "linspace");
    assert.equal(DPMSolverMultistepScheduler.fromConfig(SD15_SCHEDULER_CONFIG).config.solverOrder, 2);
    assert.equal(DDPMScheduler.fromConfig(SD15_SCHEDULER_CONFIG).config.varianceType, "fixed_small");
  });

  test("takes diffusers' defaults for missing keys", () => {
    const ddim = DDIMScheduler.fromConfig({});
    assert.deepEqual(ddim.config, DDIMScheduler.defaults);
    assert.equal(ddim.config.betaSchedule, "linear");
    assert.equal(ddim.finalAlphaCumprod, 1);
  });

  test("maps diffusers' DEIS/UniPC names onto DPM-Solver++ midpoint as diffusers does", () => {
    const scheduler = DPMSolverMultistepScheduler.fromConfig({ algorithm_type: "deis", solver_type: "logrho" });
    assert.equal(scheduler.config.algorithmType, "dpmsolver++");
    assert.equal(scheduler.config.solverType, "midpoint");
  });

  test("rejects thresholding by name", () => {
    assert.throws(() => DDIMScheduler.fromConfig({ thresholding: true }), /DDIMScheduler: thresholding=true is not supported/);
    assert.throws(() => DDPMScheduler.fromConfig({ thresholding: true }), /thresholding=true/);
    assert.throws(() => DPMSolverMultistepScheduler.fromConfig({ thresholding: true }), /thresholding=true/);
  });

  test("rejects an unknown key, a wrong type and an unknown value by name", () => {
    assert.throws(() => DDIMScheduler.fromConfig({ beta_shedule: "linear" }), /unknown key "beta_shedule"/);
    assert.throws(() => DDIMScheduler.fromConfig({ beta_start: "0.1" }), /beta_start is "0.1", expected a finite number/);
    assert.throws(
      () => DDIMScheduler.fromConfig({ beta_schedule: "cosine" }),
      /beta_schedule is "cosine", expected one of "linear", "scaled_linear", "squaredcos_cap_v2"/,
    );
    assert.throws(() => DDIMScheduler.fromConfig({ steps_offset: 0.5 }), /steps_offset is 0.5, expected an integer/);
    assert.throws(() => DDIMScheduler.fromConfig([1, 2]), /expected a diffusers config object/);
  });

  test("rejects the samplers' unsupported variants by name", () => {
    const unsupported = (make: () => unknown, message: RegExp) =>
      assert.throws(make, (error) => error instanceof UnsupportedConfigError && message.test(error.message));
    unsupported(
      () => DPMSolverMultistepScheduler.fromConfig({ algorithm_type: "sde-dpmsolver++" }),
      /algorithm_type="sde-dpmsolver\+\+" is not supported \(only "dpmsolver\+\+", "deis"\)/,
    );
    unsupported(
      () => DPMSolverMultistepScheduler.fromConfig({ variance_type: "learned_range" }),
      /variance_type="learned_range" is not supported/,
    );
    unsupported(
      () => DPMSolverMultistepScheduler.fromConfig({ use_exponential_sigmas: true }),
      /use_exponential_sigmas=true is not supported/,
    );
    unsupported(() => DDPMScheduler.fromConfig({ variance_type: "learned" }), /variance_type="learned" is not supported/);
    unsupported(
      () => EulerAncestralDiscreteScheduler.fromConfig({ prediction_type: "sample" }),
      /prediction_type="sample" is not supported/,
    );
    assert.throws(() => DDIMScheduler.fromConfig({ beta_schedule: "sigmoid" }), /beta_schedule is "sigmoid"/);
    assert.throws(() => DPMSolverMultistepScheduler.fromConfig({ solver_type: "euler" }), /solver_type is "euler"/);
  });

  test("rejects trained_betas whose length is not num_train_timesteps", () => {
    assert.throws(
      () => DDIMScheduler.fromConfig({ trained_betas: [0.1, 0.2], num_train_timesteps: 3 }),
      /trained_betas: it has 2 values, num_train_timesteps is 3/,
    );
  });
});

describe("parseDiffusersJson", () => {
  test("reads Python's -Infinity, Infinity and NaN as numbers", () => {
    const parsed = parseDiffusersJson('{"lambda_min_clipped": -Infinity, "a": [Infinity, NaN], "b": 1}') as Record<string, unknown>;
    assert.equal(parsed.lambda_min_clipped, -Infinity);
    assert.deepEqual(parsed.a, [Infinity, NaN]);
    assert.equal(parsed.b, 1);
  });

  test("leaves the same words inside strings alone", () => {
    const parsed = parseDiffusersJson('{"note": "-Infinity and \\"NaN\\"", "x": NaN}') as Record<string, unknown>;
    assert.equal(parsed.note, '-Infinity and "NaN"');
    assert.ok(Number.isNaN(parsed.x));
  });

  test("builds a DPM-Solver config with lambda_min_clipped -Infinity from text", () => {
    const scheduler = DPMSolverMultistepScheduler.fromConfig(parseDiffusersJson('{"lambda_min_clipped": -Infinity}'));
    assert.equal(scheduler.config.lambdaMinClipped, -Infinity);
  });
});
