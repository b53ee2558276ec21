import { loadTaesdWeights, TAESD } from "../../../packages/vae/mod.ts";
import { type KindRunner, UnsupportedCaseError } from "../kind_runner.ts";
import { buildCaseModel, caseWeights, CaseTensors, checkCaseInputs } from "./_case_tensors.ts";

/**
 * `taesd` cases: madebyollin/taesd's encoder and decoder from the manifest config with the case's
 * (F16) weights. `latent` = encoder(image), `reconstruction` = decoder(latent),
 * `decoded_random_latent` = decoder(random_latent); nothing is clamped.
 */
export const taesdKind: KindRunner = {
  kind: "taesd",
  async run(context) {
    const { manifest, device } = context;
    const taesd: TAESD = buildCaseModel(() => TAESD.fromConfig(manifest.config, { init: "meta", device }));
    const io = new CaseTensors(context);
    try {
      const { reader, prefix } = await caseWeights(context);
      await loadTaesdWeights(taesd, reader, { prefix });
      taesd.requiresGrad_(false); // inference: no graph is recorded
      checkCaseInputs(manifest, ["image", "random_latent"]);
      for (const name of manifest.outputs) {
        if (name === "latent" || name === "reconstruction") continue;
        if (name !== "decoded_random_latent") throw new UnsupportedCaseError(`output "${name}" is not understood`);
      }
      const wants = (name: string) => manifest.outputs.includes(name);
      if (wants("latent") || wants("reconstruction")) {
        const latent = io.own(taesd.encode(await io.float("image")));
        if (wants("latent")) await io.produce("latent", latent);
        if (wants("reconstruction")) await io.produce("reconstruction", taesd.decode(latent));
      }
      if (wants("decoded_random_latent")) await io.produce("decoded_random_latent", taesd.decode(await io.float("random_latent")));
      return io.outputs;
    } finally {
      io.dispose();
      taesd.dispose();
    }
  },
};
