import { UNet2DConditionModel } from "../../../packages/diffusion-unet/mod.ts";
import { loadWeights, noGrad, type Tensor } from "../../../packages/wgpu-tensor/mod.ts";
import type { CaseContext, KindRunner } from "../kind_runner.ts";
import { buildCaseModel, caseWeights, CaseTensors } from "./_case_tensors.ts";

/** Builds the case's UNet from its config and loads `<weights_prefix><name>` weights. */
export async function loadCaseUNet(context: CaseContext, dtype: "f32" | "f16" = "f32"): Promise<UNet2DConditionModel> {
  const unet = buildCaseModel(() =>
    UNet2DConditionModel.fromConfig(context.manifest.config, { init: "meta", device: context.device, dtype }),
  );
  const { reader, prefix } = await caseWeights(context);
  await loadWeights(unet, reader, { fileNameOf: (name) => prefix + name, isRelevant: (name) => name.startsWith(prefix) });
  return unet;
}

/** Timesteps of the case as host numbers (a 0-d tensor is one timestep for the whole batch). */
export async function caseTimesteps(context: CaseContext, name: string): Promise<number | number[]> {
  const { data, shape } = await context.float32(name);
  return shape.length === 0 ? data[0] : Array.from(data);
}

/**
 * `unet` cases: diffusers' UNet2DConditionModel built from the manifest config with the case's
 * weights; `out` for `timesteps`, `out2` for `timesteps2`, and `debug.<name>` intermediate
 * activations (time_proj, time_embedding, conv_in, each block).
 */
export const unetKind: KindRunner = {
  kind: "unet",
  async run(context) {
    const unet = await loadCaseUNet(context, context.dtype);
    if (context.dtype === "f16") context.ranInHalfPrecision(unet);
    const tensors = new CaseTensors(context);
    try {
      const sample = await tensors.float("sample");
      const encoderHiddenStates = await tensors.float("encoder_hidden_states");
      const timesteps = await caseTimesteps(context, "timesteps");
      const capture = new Map<string, Tensor>();
      const out = noGrad(() => unet.forward(sample, timesteps, encoderHiddenStates, { capture }));
      tensors.own(out, ...capture.values());
      await tensors.produce("out", out);
      for (const [name, t] of capture) if (context.manifest.outputs.includes(`debug.${name}`)) await tensors.produce(`debug.${name}`, t);
      if (context.manifest.inputs.includes("timesteps2")) {
        const timesteps2 = await caseTimesteps(context, "timesteps2");
        await tensors.produce(
          "out2",
          noGrad(() => unet.forward(sample, timesteps2, encoderHiddenStates)),
        );
      }
      return tensors.outputs;
    } finally {
      tensors.dispose();
      unet.dispose();
    }
  },
};
