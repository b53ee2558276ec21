import { loadLora } from "../../../packages/lora/mod.ts";
import { type Tensor, tensor } from "../../../packages/wgpu-tensor/mod.ts";
import type { CaseContext, KindRunner, ProducedOutput } from "../kind_runner.ts";
import { caseTimesteps, loadCaseUNet } from "./unet.ts";

/** The LoRA files of a case, by format name (a list is numbered). */
function loraFiles(context: CaseContext): [string, string][] {
  const files = context.manifest.lora_files;
  if (!files) throw new Error(`Cannot run case ${context.manifest.name}: its manifest names no lora_files`);
  return Array.isArray(files) ? files.map((file, i) => [String(i), file]) : Object.entries(files);
}

/**
 * `unet_lora` cases: the `unet` case's model with a LoRA loaded strictly from every file of
 * `lora_files` (diffusers and kohya namings). Each output is checked for every file at once
 * (the values of all files side by side against the reference repeated): `out_base` before any
 * LoRA and again after `remove()`, `out_lora` at weight 1 unmerged and merged, `out_lora_scale07`
 * at weight 0.7, and `merged.<path>.weight` the base weight after `merge()`.
 */
export const unetLoraKind: KindRunner = {
  kind: "unet_lora",
  async run(context) {
    const unet = await loadCaseUNet(context, context.dtype);
    if (context.dtype === "f16") context.ranInHalfPrecision(unet);
    const owned: Tensor[] = [];
    const upload = async (name: string) => {
      const { data, shape } = await context.float32(name);
      const t = tensor(data, shape, { device: context.device });
      owned.push(t);
      return t;
    };
    const got = new Map<string, number[][]>();
    const record = async (output: string, t: Tensor) => {
      const values = Array.from(await t.toArray());
      got.set(output, [...(got.get(output) ?? []), values]);
    };
    try {
      const sample = await upload("sample");
      const context_ = await upload("encoder_hidden_states");
      const timesteps = await caseTimesteps(context, "timesteps");
      const forward = () => {
        const out = unet.forward(sample, timesteps, context_);
        owned.push(out);
        return out;
      };
      await record("out_base", forward());
      const mergedOutputs = context.manifest.outputs.filter((name) => name.startsWith("merged."));
      for (const [format, file] of loraFiles(context)) {
        const tensors = await (await context.open(file)).readAll();
        const { adapter } = loadLora(unet, tensors, { name: `case_${format}`, strict: true });
        await record("out_lora", forward());
        adapter.weight = 0.7;
        await record("out_lora_scale07", forward());
        adapter.weight = 1;
        adapter.merge();
        await record("out_lora", forward());
        const parameters = unet.stateDict();
        for (const name of mergedOutputs) await record(name, parameters.get(name.slice("merged.".length))!);
        adapter.remove();
        await record("out_base", forward());
      }
      const outputs = new Map<string, ProducedOutput>();
      for (const [name, runs] of got) {
        const want = (await context.float32(name)).data;
        outputs.set(name, { type: "values", got: runs.flat(), want: runs.flatMap(() => Array.from(want)) });
      }
      return outputs;
    } finally {
      owned.forEach((t) => t.dispose());
      unet.dispose();
    }
  },
};
