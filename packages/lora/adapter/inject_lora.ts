import type { Tensor } from "@spo/wgpu-tensor";
import { type LoraComponent, type LoraModels, modelsByComponent } from "../formats/components.ts";
import type { LoraInit } from "../layer/lora_layer.ts";
import { LoraAdapter } from "./lora_adapter.ts";
import { findTargetLayers, type TargetModules } from "./target_modules.ts";

/** A new LoRA to train (PEFT's LoraConfig). */
export interface LoraConfig {
  /** Adapter name. Default "default". */
  name?: string;
  rank: number;
  /** Network alpha; scale alpha/rank. Default: rank (scale 1). */
  alpha?: number;
  /** Modules to adapt (PEFT semantics, see TargetModules), in every given model. */
  targetModules: TargetModules;
  /** Dropout on the LoRA input in training mode. Default 0. */
  dropout?: number;
  /** Default "default" (kaiming-uniform A, zero B); SPO uses "gaussian". */
  init?: LoraInit;
  seed?: number;
  /** The component a single model stands for. Default "unet". */
  component?: LoraComponent;
  /**
   * Turn off gradients of the base models' own parameters (PEFT does), so only the LoRA trains.
   * `remove()` does not turn them back on. Default true.
   */
  freezeBase?: boolean;
}

/**
 * Adds a trainable LoRA to every targeted Linear/Conv2d of the model(s): A initialised per
 * `init`, B zero (so the model's output is unchanged at first), base parameters frozen.
 *
 * @example
 * ```ts
 * const adapter = injectLora(unet, { rank: 4, targetModules: ["to_q", "to_k", "to_v", "to_out.0"], init: "gaussian" });
 * const optimizer = new AdamW(adapter.parameters(), { lr: 1e-4 });
 * ```
 */
export function injectLora(models: LoraModels, config: LoraConfig): LoraAdapter {
  const byComponent = modelsByComponent(models, config.component);
  const targets = [...byComponent].map(([component, model]) => [component, model, findTargetLayers(model, config.targetModules)] as const);
  if (config.freezeBase ?? true) {
    for (const [, model] of byComponent) model.requiresGrad_(false);
  }
  const adapter = new LoraAdapter({ name: config.name, seed: config.seed });
  for (const [component, , layers] of targets) {
    for (const [path, layer] of layers) {
      adapter.addLayer(component, path, layer, {
        rank: config.rank,
        alpha: config.alpha ?? config.rank,
        dropout: config.dropout,
        init: config.init,
        requiresGrad: true,
      });
    }
  }
  return adapter;
}

/**
 * The trainable tensors of adapters (what to hand an optimizer).
 *
 * @example
 * ```ts
 * const optimizer = new AdamW(loraParameters(unetAdapter, textAdapter), { lr: 1e-4 });
 * ```
 */
export function loraParameters(...adapters: LoraAdapter[]): Tensor[] {
  return adapters.flatMap((adapter) => adapter.parameters());
}
