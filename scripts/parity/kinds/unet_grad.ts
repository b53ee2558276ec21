import { backward, mul, sum, type Tensor, tensor } from "../../../packages/wgpu-tensor/mod.ts";
import type { KindRunner, ProducedOutput } from "../kind_runner.ts";
import { caseTimesteps, loadCaseUNet } from "./unet.ts";

/**
 * `unet_grad` cases: L = Σ unet(sample, t, context) ∘ G; produces `loss`, `grad.sample` and
 * `grad.<parameter name>` for every parameter the manifest lists, through our autograd.
 */
export const unetGradKind: KindRunner = {
  kind: "unet_grad",
  async run(context) {
    const unet = await loadCaseUNet(context);
    const owned: Tensor[] = [];
    const upload = async (name: string) => {
      const { data, shape } = await context.float32(name);
      const t = tensor(data, shape, { device: context.device });
      owned.push(t);
      return t;
    };
    const outputs = new Map<string, ProducedOutput>();
    try {
      const sample = await upload("sample");
      sample.requiresGrad = true;
      const weights = await upload("G");
      const out = unet.forward(sample, await caseTimesteps(context, "timesteps"), await upload("encoder_hidden_states"));
      const loss = sum(mul(out, weights));
      owned.push(out, loss);
      outputs.set("loss", { type: "tensor", data: await loss.toArray(), shape: [...loss.shape] });
      backward(loss);
      const parameters = unet.stateDict();
      for (const name of context.manifest.outputs.filter((n) => n.startsWith("grad."))) {
        const target = name === "grad.sample" ? sample : parameters.get(name.slice("grad.".length));
        if (!target?.grad) throw new Error(`${name}: no gradient reached it`);
        outputs.set(name, { type: "tensor", data: await target.grad.toArray(), shape: [...target.grad.shape] });
      }
      return outputs;
    } finally {
      owned.forEach((t) => t.dispose());
      unet.zeroGrad();
      unet.dispose();
    }
  },
};
