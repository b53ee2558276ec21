import { loadStepPreferenceWeights, StepPreferenceModel, StepPreferenceScorer } from "../../../packages/step-preference-model/mod.ts";
import { tensor } from "../../../packages/wgpu-tensor/mod.ts";
import { type KindRunner, UnsupportedCaseError } from "../kind_runner.ts";
import { buildCaseModel, caseWeights, CaseTensors, checkCaseInputs } from "./_case_tensors.ts";

/**
 * `spm_time_conditioning` cases: SPO's step-aware preference model (`HFTimeConditionedCLIPModel`)
 * built from the manifest config (`{ clip, img_size, image_mean, image_std,
 * t_embedder_frequency_embedding_size }`) with the case's weights. Inputs: `pixel_values` (normalised),
 * `timesteps`, `input_ids`, `raw_images` ([−1, 1], any size). Outputs: `t_emb`, `image_embeds`,
 * `vision_last_hidden_state`, `vision_pooled`, `text_embeds`, `logits_per_image`,
 * `logits_per_text`, `score_pixel_values` (per-pair scores), `score_raw_images` (the full scorer on raw images).
 */
export const spmTimeConditioningKind: KindRunner = {
  kind: "spm_time_conditioning",
  async run(context) {
    const { manifest, device } = context;
    const model: StepPreferenceModel = buildCaseModel(() => StepPreferenceModel.fromConfig(manifest.config, { init: "meta", device }));
    const io = new CaseTensors(context);
    try {
      const { reader, prefix } = await caseWeights(context);
      await loadStepPreferenceWeights(model, reader, { prefix });
      model.requiresGrad_(false); // inference: no graph is recorded
      checkCaseInputs(manifest, ["pixel_values", "timesteps", "input_ids", "raw_images"]);
      const timesteps = [...(await context.float32("timesteps")).data];
      const idsHost = await context.float32("input_ids");
      const ids = io.own(tensor(Int32Array.from(idsHost.data), idsHost.shape, { dtype: "i32", device }));
      const needsPixels = manifest.outputs.some((name) => name !== "t_emb" && name !== "text_embeds" && name !== "score_raw_images");
      const pixels = needsPixels ? await io.float("pixel_values") : undefined;
      const image = pixels ? model.encodeImages(pixels, timesteps) : undefined;
      if (image)
        io.own(image.lastHiddenState, image.pooledOutput, image.imageEmbeds, ...(image.timeEmbedding ? [image.timeEmbedding] : []));
      for (const name of manifest.outputs) {
        if (name === "t_emb") await io.produce(name, model.timeEmbedding(timesteps));
        else if (name === "image_embeds" && image) await io.produce(name, image.imageEmbeds);
        else if (name === "vision_last_hidden_state" && image) await io.produce(name, image.lastHiddenState);
        else if (name === "vision_pooled" && image) await io.produce(name, image.pooledOutput);
        else if (name === "text_embeds") await io.produce(name, model.getTextFeatures(ids));
        else if ((name === "logits_per_image" || name === "logits_per_text") && pixels) {
          const out = model.forward(pixels, ids, timesteps);
          const wanted = name === "logits_per_image" ? out.logitsPerImage : out.logitsPerText;
          io.own(out.logitsPerImage, out.logitsPerText, out.imageEmbeds, out.textEmbeds);
          await io.produce(name, wanted);
        } else if (name === "score_pixel_values" && pixels) await io.produce(name, model.pairScores(pixels, ids, timesteps));
        else if (name === "score_raw_images") {
          const raw = await io.float("raw_images");
          const rows = Array.from({ length: idsHost.shape[0] }, (_, i) => [
            ...idsHost.data.subarray(i * idsHost.shape[1], (i + 1) * idsHost.shape[1]),
          ]);
          const scores = await new StepPreferenceScorer(model, null).scoreIds(raw, rows, timesteps);
          io.outputs.set(name, { type: "tensor", data: scores, shape: [scores.length] });
        } else throw new UnsupportedCaseError(`output "${name}" is not understood`);
      }
      return io.outputs;
    } finally {
      io.dispose();
      model.dispose();
    }
  },
};
