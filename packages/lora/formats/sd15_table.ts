import { SD15_UNET_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import { Device } from "@spo/wgpu-tensor";
import { LayerTable, sd15TextEncoderLayerPaths } from "./layer_table.ts";

/**
 * The module table of Stable Diffusion 1.5: the UNet built shape-only (nothing allocated; the
 * device is only recorded on its meta tensors) with its LDM aliases, and the text encoder's
 * Linear layers by name. kohya files for SD1.5 resolve against it without loading a model.
 *
 * @example
 * ```ts
 * const table = sd15LayerTable();
 * table.resolveKohya("unet", "input_blocks_1_1_proj_in"); // "down_blocks.0.attentions.0.proj_in"
 * ```
 */
export function sd15LayerTable(device: Device = Device.default): LayerTable {
  const unet = UNet2DConditionModel.fromConfig(SD15_UNET_CONFIG, { init: "meta", device });
  const table = LayerTable.fromModels(new Map([["unet", unet]]));
  return table.merge(LayerTable.fromNames("text_encoder", sd15TextEncoderLayerPaths()));
}
