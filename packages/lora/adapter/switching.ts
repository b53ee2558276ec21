import { Conv2d, Linear } from "@spo/wgpu-tensor";
import { type LoraModels, modelsByComponent } from "../formats/components.ts";
import { LoraLayer } from "../layer/lora_layer.ts";
import { LoraAdapter } from "./lora_adapter.ts";

/**
 * Every LoRA adapter attached to the model(s), in the order first met.
 *
 * @example
 * ```ts
 * loraAdaptersOf(unet).map((a) => a.name); // ["spo", "style"]
 * ```
 */
export function loraAdaptersOf(models: LoraModels): LoraAdapter[] {
  const found = new Set<LoraAdapter>();
  for (const [, model] of modelsByComponent(models)) {
    for (const [, module] of model.namedModules()) {
      if (!(module instanceof Linear || module instanceof Conv2d)) continue;
      for (const adapter of module.adapters.values()) {
        if (adapter instanceof LoraLayer && adapter.owner instanceof LoraAdapter) found.add(adapter.owner);
      }
    }
  }
  return [...found];
}

/**
 * Turns every attached adapter on (PEFT's `enable_adapters`).
 *
 * @example
 * ```ts
 * enableAdapters({ unet, text_encoder });
 * ```
 */
export function enableAdapters(models: LoraModels): void {
  for (const adapter of loraAdaptersOf(models)) adapter.isEnabled = true;
}

/**
 * Turns every attached adapter off: the model computes exactly the base model (PEFT's
 * `disable_adapters`). Throws for a merged adapter (unmerge it first).
 *
 * @example
 * ```ts
 * disableAdapters(unet);
 * unet.forward(x, t, context); // the base UNet, bit for bit
 * ```
 */
export function disableAdapters(models: LoraModels): void {
  for (const adapter of unmergedAdapters(models, "disable")) adapter.isEnabled = false;
}

/**
 * Runs `fn` with every adapter off and restores each adapter's own state afterwards (also when
 * `fn` throws or its promise rejects): SPO's frozen reference model without a second copy.
 *
 * @example
 * ```ts
 * const epsPolicy = unet.forward(x, t, context);
 * const epsReference = withAdaptersDisabled(unet, () => unet.forward(x, t, context));
 * ```
 */
export function withAdaptersDisabled<T>(models: LoraModels, fn: () => T): T {
  const adapters = unmergedAdapters(models, "disable");
  const states = adapters.map((adapter) => adapter.isEnabled);
  adapters.forEach((adapter) => (adapter.isEnabled = false));
  const restore = () => adapters.forEach((adapter, i) => (adapter.isEnabled = states[i]));
  let result: T;
  try {
    result = fn();
  } catch (error) {
    restore();
    throw error;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}

/**
 * Makes exactly the named adapters active with the given weights and turns the others off
 * (diffusers' `set_adapters`). Throws for a name no attached adapter has.
 *
 * @example
 * ```ts
 * setAdapters(unet, ["spo", "style"], [1, 0.6]);
 * ```
 */
export function setAdapters(models: LoraModels, names: readonly string[], weights?: readonly number[]): void {
  if (weights && weights.length !== names.length) {
    throw new RangeError(`Cannot set adapters: ${names.length} names but ${weights.length} weights`);
  }
  const adapters = loraAdaptersOf(models);
  for (const name of names) {
    if (!adapters.some((a) => a.name === name)) {
      throw new RangeError(
        `Cannot set adapter "${name}": the model has ${adapters.length ? `only ${adapters.map((a) => `"${a.name}"`).join(", ")}` : "no adapters"}`,
      );
    }
  }
  for (const adapter of adapters) {
    const index = names.indexOf(adapter.name);
    if (index < 0) {
      adapter.isEnabled = false;
      continue;
    }
    adapter.isEnabled = true;
    if (weights) adapter.weight = weights[index];
  }
}

/** The attached adapters, after checking that none is merged (a merged ΔW cannot be switched off). */
function unmergedAdapters(models: LoraModels, action: string): LoraAdapter[] {
  const adapters = loraAdaptersOf(models);
  const merged = adapters.find((adapter) => adapter.isMerged);
  if (merged) throw new Error(`Cannot ${action} adapter "${merged.name}": it is merged into the base weights; unmerge it first`);
  return adapters;
}
