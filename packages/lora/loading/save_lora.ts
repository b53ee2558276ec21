import type { LoraAdapter } from "../adapter/lora_adapter.ts";
import { modelsByComponent } from "../formats/components.ts";
import type { LoraFormat } from "../formats/lora_keys.ts";
import { type FormattedLora, formatLora, type LoraModuleWeights } from "../formats/write_lora.ts";
import { Conv2d, Linear, type Module } from "@spo/wgpu-tensor";
import type { LoraComponent } from "../formats/components.ts";

/**
 * The adapter's matrices read back to the host (alpha and rank included; the adapter's weight
 * multiplier is a setting, not part of the LoRA, and is not applied).
 *
 * @example
 * ```ts
 * const modules = await loraModuleWeights(adapter); // [{ component: "unet", path, rank, alpha, down, up }, …]
 * ```
 */
export async function loraModuleWeights(adapter: LoraAdapter): Promise<LoraModuleWeights[]> {
  const modules: LoraModuleWeights[] = [];
  for (const layer of adapter.layers()) {
    const down = layer.lora_A.weight;
    const up = layer.lora_B.weight;
    modules.push({
      component: layer.component,
      path: layer.path,
      rank: layer.rank,
      alpha: layer.alpha,
      down: { shape: [...down.shape], data: Float32Array.from(await down.toArray()) },
      up: { shape: [...up.shape], data: Float32Array.from(await up.toArray()) },
    });
  }
  return modules;
}

/**
 * The adapter in a file format: tensors, metadata and (PEFT) adapter_config.json, ready for
 * `serializeSafetensors` / `writeSafetensorsFile`. `models` (the adapted models) lets PEFT
 * `target_modules` use short names only when they match nothing else.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = await saveLora(adapter, "diffusers");
 * const bytes = serializeSafetensors(tensors, metadata); // SPO's published layout
 * ```
 */
export async function saveLora(
  adapter: LoraAdapter,
  format: LoraFormat,
  options: { models?: Module | Partial<Record<LoraComponent, Module>> } = {},
): Promise<FormattedLora> {
  const modules = await loraModuleWeights(adapter);
  return formatLora(modules, format, { allPaths: options.models ? adaptablePaths(options.models) : undefined });
}

/**
 * The keys and shapes the adapter would be saved under, without reading any values (works on
 * shape-only adapters): for layout checks and for listing a file's contents.
 *
 * @example
 * ```ts
 * loraLayout(adapter, "diffusers").size; // 256 for SPO's SD1.5 LoRA
 * ```
 */
export function loraLayout(adapter: LoraAdapter, format: LoraFormat): Map<string, number[]> {
  const empty = new Float32Array(0);
  const modules: LoraModuleWeights[] = adapter.layers().map((layer) => ({
    component: layer.component,
    path: layer.path,
    rank: layer.rank,
    alpha: layer.alpha,
    down: { shape: [...layer.lora_A.weight.shape], data: empty },
    up: { shape: [...layer.lora_B.weight.shape], data: empty },
  }));
  const { tensors } = formatLora(modules, format);
  return new Map([...tensors].map(([key, t]) => [key, [...t.shape]]));
}

function adaptablePaths(models: Module | Partial<Record<LoraComponent, Module>>): string[] {
  const paths: string[] = [];
  for (const [, model] of modelsByComponent(models)) {
    for (const [path, module] of model.namedModules()) if (module instanceof Linear || module instanceof Conv2d) paths.push(path);
  }
  return paths;
}
