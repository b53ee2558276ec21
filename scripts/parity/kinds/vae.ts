import { AutoencoderKL, loadAutoencoderKLWeights } from "../../../packages/vae/mod.ts";
import type { Tensor } from "../../../packages/wgpu-tensor/mod.ts";
import { type KindRunner, UnsupportedCaseError } from "../kind_runner.ts";
import { buildCaseModel, caseWeights, CaseTensors, checkCaseInputs } from "./_case_tensors.ts";

const INPUTS = ["image", "latents", "noise"];

/**
 * `vae` cases: diffusers' `AutoencoderKL` from the manifest config with the case's weights.
 * `encode(image)` gives `latent_mean`, `latent_std`, `latent_logvar` (and `latent_sample` with
 * the case's `noise`); `decode(latents)` gives `decoded`; `debug.encoder_out` and
 * `debug.post_quant_conv_out` are the captured intermediates. No scaling factor is applied.
 */
export const vaeKind: KindRunner = {
  kind: "vae",
  async run(context) {
    const { manifest, device } = context;
    const vae: AutoencoderKL = buildCaseModel(() =>
      AutoencoderKL.fromConfig(manifest.config, { init: "meta", device, dtype: context.dtype }),
    );
    if (context.dtype === "f16") context.ranInHalfPrecision(vae);
    const io = new CaseTensors(context);
    try {
      const { reader, prefix } = await caseWeights(context);
      await loadAutoencoderKLWeights(vae, reader, { prefix });
      vae.requiresGrad_(false); // inference: no graph is recorded
      checkCaseInputs(manifest, INPUTS);
      const capture = new Map<string, Tensor>();
      const produced = new Map<string, Tensor>();
      if (manifest.inputs.includes("image")) {
        const posterior = vae.encode(await io.float("image"), { capture });
        io.own(posterior.mean, posterior.std, posterior.logvar);
        produced.set("latent_mean", posterior.mean).set("latent_std", posterior.std).set("latent_logvar", posterior.logvar);
        if (manifest.inputs.includes("noise")) produced.set("latent_sample", posterior.sample(await io.float("noise")));
      }
      if (manifest.inputs.includes("latents")) produced.set("decoded", vae.decode(await io.float("latents"), { capture }));
      for (const [name, t] of capture) produced.set(`debug.${name}`, t);
      for (const t of produced.values()) io.own(t);
      for (const name of manifest.outputs) {
        const t = produced.get(name);
        if (!t) throw new UnsupportedCaseError(`output "${name}" is not understood`);
        await io.produce(name, t);
      }
      return io.outputs;
    } finally {
      io.dispose();
      vae.dispose();
    }
  },
};
