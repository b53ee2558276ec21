import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_CLIP_ASSETS_URL } from "@spo/clip/node";
import { writeSafetensorsFile } from "@spo/safetensors/node";
import { f32ToF16Bits, type Module } from "@spo/wgpu-tensor";
import { TOY_MODEL_INDEX, TOY_SCHEDULER_CONFIG, TOY_TEXT_ENCODER_CONFIG, TOY_UNET_CONFIG } from "./toy_configs.ts";

/** How to store weights: f32, or f16 (half the bytes; the loaders convert back to f32). */
export type WeightDtype = "F32" | "F16";

/** A module's state dict as safetensors input, read back from the GPU. */
export async function hostStateDict(
  module: Module,
  dtype: WeightDtype,
): Promise<Map<string, { dtype: WeightDtype; shape: number[]; data: Float32Array | Uint16Array }>> {
  const out = new Map<string, { dtype: WeightDtype; shape: number[]; data: Float32Array | Uint16Array }>();
  for (const [name, value] of module.stateDict()) {
    const data = (await value.toArray()) as Float32Array;
    out.set(name, { dtype, shape: [...value.shape], data: dtype === "F32" ? data : Uint16Array.from(data, (v) => f32ToF16Bits(v)) });
  }
  return out;
}

/**
 * Writes the toy model as a diffusers folder: `model_index.json`, `scheduler/`, `tokenizer/` (CLIP's
 * vocabulary from @spo/clip), `text_encoder/` (f16 weights: the 49,408-row token table is most of
 * them) and `unet/` (f32), so `loadStableDiffusionPipeline(folder)` loads it like SD1.5.
 */
export async function saveToyModelFolder(
  folder: string,
  unet: Module,
  textEncoder: Module,
  metadata: Record<string, string> = {},
): Promise<void> {
  for (const sub of ["unet", "text_encoder", "tokenizer", "scheduler"]) await mkdir(join(folder, sub), { recursive: true });
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(join(folder, "model_index.json"), json(TOY_MODEL_INDEX));
  await writeFile(join(folder, "scheduler", "scheduler_config.json"), json(TOY_SCHEDULER_CONFIG));
  await writeFile(join(folder, "unet", "config.json"), json(TOY_UNET_CONFIG));
  await writeFile(join(folder, "text_encoder", "config.json"), json(TOY_TEXT_ENCODER_CONFIG));
  const assets = fileURLToPath(DEFAULT_CLIP_ASSETS_URL);
  await copyFile(join(assets, "vocab.json"), join(folder, "tokenizer", "vocab.json"));
  await copyFile(join(assets, "merges.txt"), join(folder, "tokenizer", "merges.txt"));
  await copyFile(join(assets, "LICENSE"), join(folder, "tokenizer", "LICENSE")); // CLIP's vocabulary is MIT (© OpenAI)
  await writeFile(join(folder, "tokenizer", "tokenizer_config.json"), json({ model_max_length: 77, tokenizer_class: "CLIPTokenizer" }));
  await writeSafetensorsFile(join(folder, "unet", "diffusion_pytorch_model.safetensors"), await hostStateDict(unet, "F32"), {
    format: "pt",
    ...metadata,
  });
  await writeSafetensorsFile(join(folder, "text_encoder", "model.safetensors"), await hostStateDict(textEncoder, "F16"), {
    format: "pt",
    ...metadata,
  });
}
