import type { DType, SafeTensor, TensorInput } from "@spo/safetensors";
import { toFloat32Array } from "@spo/safetensors";
import { readSafetensorsFile, writeSafetensorsFile } from "@spo/safetensors/node";
import {
  diffusersToLdmUNetKey,
  LDM_UNET_PREFIX,
  SD15_UNET_CONFIG,
  UNet2DConditionModel,
  unetConfigFromDiffusers,
} from "@spo/diffusion-unet";
import { Conv2d, Device, f32ToF16Bits, Linear } from "@spo/wgpu-tensor";
import type { LoraComponent } from "../formats/components.ts";
import { hostDeltaWeight, loraEntries, plannedWeights } from "../formats/host_lora.ts";
import { LayerTable } from "../formats/layer_table.ts";
import { LoraLoadError, type LoraLoadReport } from "../formats/load_report.ts";
import { planLora } from "../formats/lora_plan.ts";
import { peftAlphaOf } from "../formats/peft_config.ts";
import { existingDefaultDevice } from "./_default_device.ts";
import { readLoraFile } from "./lora_files_node.ts";

/** The text encoder's prefix in original single-file SD1.x checkpoints. */
const LDM_TEXT_ENCODER_PREFIX = "cond_stage_model.transformer.";

export interface MergeLoraOptions {
  /** For a diffusers component file: which component it is. Default: from its names (`text_model.` → text_encoder, else unet). */
  component?: LoraComponent;
  /** The UNet config of a single-file checkpoint (default SD1.5's), for its LDM names. */
  unetConfig?: Record<string, unknown>;
  /** Fail if any LoRA key does not match the checkpoint. Default false: the reports say what did not. */
  strict?: boolean;
}

/** One LoRA to merge and its multiplier. */
export interface LoraToMerge {
  file: string;
  weight?: number;
}

/**
 * Merges LoRA files into a checkpoint file, W ← W + Σ weight·(alpha/r)·up·down (computed in
 * f32 with f64 sums, written back in each weight's dtype): what `spo lora merge` runs. Takes a
 * diffusers component file (`unet/diffusion_pytorch_model.safetensors`, the text encoder's
 * `model.safetensors`) or an original single-file checkpoint (`model.diffusion_model.*` and
 * `cond_stage_model.transformer.*`). Other tensors are copied unchanged. Returns one report per LoRA.
 *
 * @example
 * ```ts
 * const [report] = await mergeLoraIntoCheckpoint("sd15/unet/diffusion_pytorch_model.safetensors",
 *   [{ file: "spo_lora.safetensors" }], "spo-unet.safetensors");
 * ```
 */
export async function mergeLoraIntoCheckpoint(
  checkpointFile: string,
  loras: readonly LoraToMerge[],
  outFile: string,
  options: MergeLoraOptions = {},
): Promise<LoraLoadReport[]> {
  await using reader = await readSafetensorsFile(checkpointFile);
  const shapes = new Map(reader.names.map((name) => [name, reader.info(name).shape]));
  const { table, weightKeyOf } = await checkpointTable(shapes, options);
  const updates = new Map<string, Float32Array>();
  const reports: LoraLoadReport[] = [];
  for (const lora of loras) {
    const { tensors, peftConfig } = await readLoraFile(lora.file);
    const { modules, report } = planLora(loraEntries(tensors), table, {
      defaultComponent: table.components()[0],
      alphaOf: peftConfig ? peftAlphaOf(peftConfig) : undefined,
    });
    if (report.matchedModules === 0) throw new LoraLoadError(report, `Cannot merge ${lora.file} into ${checkpointFile}: nothing matched`);
    if (options.strict && report.unmatched.length > 0) throw new LoraLoadError(report, `Cannot merge ${lora.file} into ${checkpointFile}`);
    for (const m of plannedWeights(modules)) {
      const key = weightKeyOf(m.component, m.path);
      const current = updates.get(key) ?? toFloat32Array(await reader.tensor(key));
      const delta = hostDeltaWeight(m, lora.weight ?? 1);
      for (let i = 0; i < current.length; i++) current[i] += delta[i];
      updates.set(key, current);
    }
    reports.push(report);
  }
  const all = await reader.readAll();
  const output = new Map<string, TensorInput>();
  for (const [name, tensor] of all) {
    const merged = updates.get(name);
    output.set(name, merged ? encode(merged, tensor) : tensor);
  }
  await writeSafetensorsFile(outFile, output, reader.metadata);
  return reports;
}

interface CheckpointTable {
  table: LayerTable;
  weightKeyOf: (component: LoraComponent, path: string) => string;
}

async function checkpointTable(shapes: Map<string, readonly number[]>, options: MergeLoraOptions): Promise<CheckpointTable> {
  const isSingleFile = [...shapes.keys()].some((name) => name.startsWith(LDM_UNET_PREFIX));
  if (!isSingleFile) {
    const component = options.component ?? ([...shapes.keys()].some((n) => n.startsWith("text_model.")) ? "text_encoder" : "unet");
    return { table: LayerTable.fromWeightShapes(component, shapes), weightKeyOf: (_c, path) => `${path}.weight` };
  }
  const config = options.unetConfig ?? SD15_UNET_CONFIG;
  const table = await diffusersUNetTable(config, shapes);
  const textEncoder = [...shapes]
    .filter(([n]) => n.startsWith(LDM_TEXT_ENCODER_PREFIX))
    .map(([n, s]): [string, readonly number[]] => [n.slice(LDM_TEXT_ENCODER_PREFIX.length), s]);
  if (textEncoder.length > 0) table.merge(LayerTable.fromWeightShapes("text_encoder", textEncoder));
  const unetConfig = unetConfigFromDiffusers(config);
  return {
    table,
    weightKeyOf: (component, path) => {
      if (component === "unet") return LDM_UNET_PREFIX + diffusersToLdmUNetKey(`${path}.weight`, unetConfig);
      return `${LDM_TEXT_ENCODER_PREFIX}${path}.weight`;
    },
  };
}

/** The UNet's layers under their diffusers paths (LDM names as aliases), shapes from the file. */
async function diffusersUNetTable(config: Record<string, unknown>, shapes: Map<string, readonly number[]>): Promise<LayerTable> {
  const existing = existingDefaultDevice();
  const device = existing ?? (await Device.create());
  try {
    const unet = UNet2DConditionModel.fromConfig(config, { init: "meta", device });
    const table = new LayerTable();
    for (const [path, module] of unet.namedModules()) {
      if (!(module instanceof Linear || module instanceof Conv2d)) continue;
      const ldm = diffusersToLdmUNetKey(`${path}.weight`, unet.config);
      const shape = shapes.get(LDM_UNET_PREFIX + ldm);
      if (!shape) continue;
      const kind = shape.length === 2 ? "linear" : "conv";
      table.add("unet", { path, kind, weightShape: shape, groups: 1, layer: null }, [ldm.slice(0, -".weight".length)]);
    }
    return table;
  } finally {
    if (!existing) device.destroy();
  }
}

/** f32 values back in the dtype of the tensor they replace. */
function encode(values: Float32Array, like: SafeTensor): TensorInput {
  const shape = like.shape;
  const dtype: DType = like.dtype;
  if (dtype === "F32") return { dtype, shape, data: values };
  if (dtype === "F64") return { dtype, shape, data: Float64Array.from(values) };
  if (dtype === "F16") return { dtype, shape, data: Uint16Array.from(values, (v) => f32ToF16Bits(v)) };
  if (dtype === "BF16") return { dtype, shape, data: Uint16Array.from(values, bf16Bits) };
  throw new TypeError(`Cannot merge a LoRA into a ${dtype} weight of shape [${shape.join(", ")}]: only float weights can be merged`);
}

/** Round-to-nearest-even f32 → bfloat16 bits (NaN kept quiet). */
function bf16Bits(value: number): number {
  const bits = new Uint32Array(Float32Array.of(value).buffer)[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}
