import { UnsupportedConfigError } from "../../../packages/diffusion-unet/mod.ts";
import { type ParityTensor, type SchedulerManifest, schedulerParityCase } from "../cases/scheduler_case.ts";
import { type KindRunner, type ProducedOutput, UnsupportedCaseError } from "../kind_runner.ts";

/**
 * `scheduler` cases: diffusers' DDIM, DDPM, Euler ancestral and DPM-Solver++ schedulers (the class
 * named in `source`) built from the manifest's config; every output (tables, timesteps, single
 * steps, add_noise, trajectories with the description's fake model) by
 * `schedulerParityCase` (../cases/scheduler_case.ts). A config feature the port does not implement is a SKIP.
 */
export const schedulerKind: KindRunner = {
  kind: "scheduler",
  async run(context) {
    const tensors = new Map<string, ParityTensor>();
    for (const name of context.manifest.inputs) tensors.set(name, await context.float32(name));
    // biome-ignore lint/suspicious/noImplicitAnyLet: typed by its assignment in the try block (control-flow inference)
    let computed;
    try {
      computed = await schedulerParityCase(context.manifest as unknown as SchedulerManifest, tensors, { device: context.device });
    } catch (error) {
      if (error instanceof UnsupportedConfigError) throw new UnsupportedCaseError(error.message);
      throw error;
    }
    const outputs = new Map<string, ProducedOutput>();
    for (const [name, { data, shape }] of computed) outputs.set(name, { type: "tensor", data, shape });
    return outputs;
  },
};
