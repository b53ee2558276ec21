import { backward, mul, sum } from "../../../packages/wgpu-tensor/mod.ts";
import type { KindRunner } from "../kind_runner.ts";
import { CaseTensors } from "./_case_tensors.ts";
import { caseTimesteps, loadCaseUNet } from "./unet.ts";

/**
 * `unet_grad` cases: L = Σ unet(sample, t, context) ∘ G; produces `loss`, `grad.sample` and
 * `grad.<parameter name>` for every parameter the manifest lists, through our autograd.
 */
export const unetGradKind: KindRunner = {
  kind: "unet_grad",
  async run(context) {
    const unet = await loadCaseUNet(context);
    const tensors = new CaseTensors(context);
    try {
      const sample = await tensors.float("sample");
      sample.requiresGrad = true;
      const weights = await tensors.float("G");
      const encoderHiddenStates = await tensors.float("encoder_hidden_states");
      const out = tensors.own(unet.forward(sample, await caseTimesteps(context, "timesteps"), encoderHiddenStates));
      const loss = sum(mul(out, weights));
      await tensors.produce("loss", loss);
      backward(loss);
      const parameters = unet.stateDict();
      for (const name of context.manifest.outputs.filter((n) => n.startsWith("grad."))) {
        const target = name === "grad.sample" ? sample : parameters.get(name.slice("grad.".length));
        if (!target?.grad) throw new Error(`${name}: no gradient reached it`);
        tensors.outputs.set(name, { type: "tensor", data: await target.grad.toArray(), shape: [...target.grad.shape] });
      }
      return tensors.outputs;
    } finally {
      tensors.dispose();
      unet.zeroGrad();
      unet.dispose();
    }
  },
};
