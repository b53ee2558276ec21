import {
  CLIPVisionModel,
  CLIPVisionModelWithProjection,
  type CLIPVisionProjectionOutput,
  loadClipWeights,
} from "../../../packages/clip/mod.ts";
import { type KindRunner, UnsupportedCaseError } from "../kind_runner.ts";
import { buildCaseModel, caseWeights, CaseTensors, checkCaseInputs } from "./_case_tensors.ts";

const HIDDEN_STATE = /^hidden_states\.(\d+)$/;

/**
 * `clip_vision` cases: transformers' `CLIPVisionModelWithProjection` (or `CLIPVisionModel` when
 * the weights have no `visual_projection`) on normalised `pixel_values`. Outputs: `image_embeds`,
 * `last_hidden_state`, `pooled_post_layernorm` / `pooler_output`, `hidden_states.<i>`.
 */
export const clipVisionKind: KindRunner = {
  kind: "clip_vision",
  async run(context) {
    const { manifest, device } = context;
    const { reader, prefix } = await caseWeights(context);
    const hasProjection = reader.has(`${prefix}visual_projection.weight`);
    const options = { init: "meta" as const, device, dtype: context.dtype };
    const model: CLIPVisionModel | CLIPVisionModelWithProjection = buildCaseModel(() =>
      hasProjection
        ? CLIPVisionModelWithProjection.fromConfig(manifest.config, options)
        : CLIPVisionModel.fromConfig(manifest.config, options),
    );
    if (context.dtype === "f16") context.ranInHalfPrecision(model);
    const io = new CaseTensors(context);
    try {
      await loadClipWeights(model, reader, { prefix });
      model.requiresGrad_(false); // inference: no graph is recorded
      checkCaseInputs(manifest, ["pixel_values"]);
      const pixels = await io.float("pixel_values");
      const wantsStates = manifest.outputs.some((name) => HIDDEN_STATE.test(name));
      const out = model.forward(pixels, { outputHiddenStates: wantsStates });
      const imageEmbeds = (out as Partial<CLIPVisionProjectionOutput>).imageEmbeds;
      io.own(out.lastHiddenState, out.pooledOutput, ...(out.hiddenStates ?? []), ...(imageEmbeds ? [imageEmbeds] : []));
      for (const name of manifest.outputs) {
        const state = HIDDEN_STATE.exec(name);
        if (name === "image_embeds" && imageEmbeds) await io.produce(name, imageEmbeds);
        else if (name === "last_hidden_state") await io.produce(name, out.lastHiddenState);
        else if (name === "pooled_post_layernorm" || name === "pooler_output") await io.produce(name, out.pooledOutput);
        else if (state && out.hiddenStates?.[Number(state[1])]) await io.produce(name, out.hiddenStates[Number(state[1])]);
        else throw new UnsupportedCaseError(`output "${name}" is not understood`);
      }
      return io.outputs;
    } finally {
      io.dispose();
      model.dispose();
    }
  },
};
