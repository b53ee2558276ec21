import { UNet2DConditionModel, UnsupportedConfigError } from "../../../packages/diffusion-unet/mod.ts";
import { loadWeights, tensor, type Tensor } from "../../../packages/wgpu-tensor/mod.ts";
import { type CaseContext, type KindRunner, type ProducedOutput, UnsupportedCaseError } from "../kind_runner.ts";

/** Builds the case's UNet from its config and loads `<weights_prefix><name>` weights. */
export async function loadCaseUNet(context: CaseContext): Promise<UNet2DConditionModel> {
  let unet: UNet2DConditionModel;
  try {
    unet = UNet2DConditionModel.fromConfig(context.manifest.config, { init: "meta", device: context.device });
  } catch (error) {
    if (error instanceof UnsupportedConfigError) throw new UnsupportedCaseError(error.message);
    throw error;
  }
  const prefix = context.manifest.weights_prefix ?? "weights.";
  const reader = await context.open(context.manifest.weights_file ?? context.manifest.file!);
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
    const unet = await loadCaseUNet(context);
    const owned: Tensor[] = [];
    const upload = async (name: string) => {
      const { data, shape } = await context.float32(name);
      const t = tensor(data, shape, { device: context.device });
      owned.push(t);
      return t;
    };
    const outputs = new Map<string, ProducedOutput>();
    const read = async (name: string, t: Tensor) => outputs.set(name, { type: "tensor", data: await t.toArray(), shape: [...t.shape] });
    try {
      const sample = await upload("sample");
      const context_ = await upload("encoder_hidden_states");
      const capture = new Map<string, Tensor>();
      const out = unet.forward(sample, await caseTimesteps(context, "timesteps"), context_, { capture });
      owned.push(out, ...capture.values());
      await read("out", out);
      for (const [name, t] of capture) if (context.manifest.outputs.includes(`debug.${name}`)) await read(`debug.${name}`, t);
      if (context.manifest.inputs.includes("timesteps2")) {
        const out2 = unet.forward(sample, await caseTimesteps(context, "timesteps2"), context_);
        owned.push(out2);
        await read("out2", out2);
      }
      return outputs;
    } finally {
      owned.forEach((t) => t.dispose());
      unet.dispose();
    }
  },
};
