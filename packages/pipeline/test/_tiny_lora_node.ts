/**
 * Writes a kohya-format LoRA for the tiny model of `_tiny_model_node.ts` (rank 2 on the UNet's
 * attention projections and the text encoder's q/k/v/out projections) for the end-to-end tests.
 */

import { injectLora, saveLora } from "@spo/lora";
import { writeSafetensorsFile } from "@spo/safetensors/node";
import { Device } from "@spo/wgpu-tensor";
import { loadStableDiffusionPipeline } from "../pipeline/load_pipeline_node.ts";

/** Saves the LoRA of the tiny model in `modelFolder` to `file` (on a device of its own). */
export async function writeTinyLora(modelFolder: string, file: string): Promise<void> {
  const device = await Device.create();
  Device.setDefault(device);
  const pipe = await loadStableDiffusionPipeline(modelFolder, { device });
  try {
    const models = { unet: pipe.components.unet, text_encoder: pipe.components.textEncoder };
    const adapter = injectLora(models, {
      rank: 2,
      init: "gaussian",
      seed: 3,
      targetModules: ["to_q", "to_k", "to_v", "to_out.0", "q_proj", "k_proj", "v_proj", "out_proj"],
    });
    const { tensors, metadata } = await saveLora(adapter, "kohya", { models });
    adapter.remove();
    await writeSafetensorsFile(file, tensors, metadata);
  } finally {
    pipe.dispose();
    device.destroy();
  }
}
