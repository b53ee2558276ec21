import { type SpoParityTensor, spoLogprobLossParityCase, UnsupportedSpoCaseError } from "../../../packages/spo-trainer/mod.ts";
import { type KindRunner, type ProducedOutput, UnsupportedCaseError } from "../kind_runner.ts";

/**
 * `spo_logprob_loss` cases: SPO's DDIM η = 1 transition log-prob, clipped DPO loss with its
 * gradient, and pair selection, computed by @spo/trainer's `spoLogprobLossParityCase`. Unknown
 * inputs are a SKIP.
 */
export const spoLogprobLossKind: KindRunner = {
  kind: "spo_logprob_loss",
  async run(context) {
    const tensors = new Map<string, SpoParityTensor>();
    for (const name of context.manifest.inputs) tensors.set(name, await context.float32(name));
    // biome-ignore lint/suspicious/noImplicitAnyLet: typed by its assignment in the try block (control-flow inference)
    let computed;
    try {
      computed = await spoLogprobLossParityCase(context.manifest, tensors, { device: context.device });
    } catch (error) {
      if (error instanceof UnsupportedSpoCaseError) throw new UnsupportedCaseError(error.message);
      throw error;
    }
    const outputs = new Map<string, ProducedOutput>();
    for (const [name, { data, shape }] of computed) outputs.set(name, { type: "tensor", data, shape });
    return outputs;
  },
};
