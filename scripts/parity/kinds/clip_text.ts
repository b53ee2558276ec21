import { CLIPTextModel, loadClipWeights } from "../../../packages/clip/mod.ts";
import { type KindRunner, UnsupportedCaseError } from "../kind_runner.ts";
import { buildCaseModel, caseWeights, CaseTensors, checkCaseInputs } from "./_case_tensors.ts";

const HIDDEN_STATE = /^hidden_states\.(\d+)$/;
const CLIP_SKIP = /^clip_skip(\d+)$/;

/**
 * `clip_text` cases: transformers' `CLIPTextModel` built from the manifest config with the
 * case's weights, run on `input_ids` (and `attention_mask` when the case has one). Outputs:
 * `last_hidden_state`, `pooler_output`, `hidden_states.<i>`, `clip_skip<k>` (diffusers
 * `clip_skip=k`), `pooled_index` (the pooled token per row).
 */
export const clipTextKind: KindRunner = {
  kind: "clip_text",
  async run(context) {
    const { manifest, device } = context;
    const model: CLIPTextModel = buildCaseModel(() =>
      CLIPTextModel.fromConfig(manifest.config, { init: "meta", device, dtype: context.dtype }),
    );
    if (context.dtype === "f16") context.ranInHalfPrecision(model);
    const io = new CaseTensors(context);
    try {
      const { reader, prefix } = await caseWeights(context);
      await loadClipWeights(model, reader, { prefix });
      model.requiresGrad_(false); // inference: no graph is recorded
      checkCaseInputs(manifest, ["input_ids", "attention_mask"]);
      const ids = await io.int("input_ids");
      const attentionMask = manifest.inputs.includes("attention_mask") ? await io.float("attention_mask") : undefined;
      const wantsStates = manifest.outputs.some((name) => HIDDEN_STATE.test(name));
      const main = model.forward(ids, { outputHiddenStates: wantsStates, attentionMask });
      io.own(main.lastHiddenState, main.pooledOutput, ...(main.hiddenStates ?? []));
      for (const name of manifest.outputs) {
        const state = HIDDEN_STATE.exec(name);
        const skip = CLIP_SKIP.exec(name);
        if (name === "last_hidden_state") await io.produce(name, main.lastHiddenState);
        else if (name === "pooler_output") await io.produce(name, main.pooledOutput);
        else if (name === "pooled_index") await io.produce(name, model.poolingIndices(ids));
        else if (state && main.hiddenStates?.[Number(state[1])]) await io.produce(name, main.hiddenStates[Number(state[1])]);
        else if (skip) {
          const skipped = model.forward(ids, { clipSkip: Number(skip[1]), attentionMask });
          io.own(skipped.pooledOutput);
          await io.produce(name, skipped.lastHiddenState);
        } else throw new UnsupportedCaseError(`output "${name}" is not understood`);
      }
      return io.outputs;
    } finally {
      io.dispose();
      model.dispose();
    }
  },
};
