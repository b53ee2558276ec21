import { Module } from "@spo/wgpu-tensor";

/** The models of a Stable Diffusion pipeline a LoRA file can address. */
export type LoraComponent = "unet" | "text_encoder" | "text_encoder_2";

/** Every component, in the order files list them. */
export const LORA_COMPONENTS: readonly LoraComponent[] = ["unet", "text_encoder", "text_encoder_2"];

/** kohya-ss / A1111 name prefixes (`lora_unet_down_blocks_0_…`, `lora_te_text_model_…`). */
export const KOHYA_PREFIXES: Readonly<Record<LoraComponent, string>> = {
  unet: "lora_unet",
  text_encoder: "lora_te",
  text_encoder_2: "lora_te2",
};

/** kohya prefix (without `lora_`) → component; SDXL files call the first text encoder `te1`. */
export const KOHYA_COMPONENTS: Readonly<Record<string, LoraComponent>> = {
  unet: "unet",
  te: "text_encoder",
  te1: "text_encoder",
  te2: "text_encoder_2",
};

/**
 * The models a LoRA is applied to: one module (the `unet` unless an option names another
 * component), or modules by component, e.g. `{ unet, text_encoder }`.
 */
export type LoraModels = Module | Partial<Record<LoraComponent, Module>>;

/**
 * The models by component: a single module stands for `component` (default `"unet"`).
 *
 * @example
 * ```ts
 * modelsByComponent(unet).get("unet") === unet; // true
 * modelsByComponent({ text_encoder: clip }).has("unet"); // false
 * ```
 */
export function modelsByComponent(models: LoraModels, component: LoraComponent = "unet"): Map<LoraComponent, Module> {
  if (models instanceof Module) return new Map([[component, models]]);
  const byComponent = new Map<LoraComponent, Module>();
  for (const name of LORA_COMPONENTS) {
    const model = models[name];
    if (model) byComponent.set(name, model);
  }
  if (byComponent.size === 0) {
    throw new TypeError(`Cannot apply a LoRA: no model given (expected a Module or a record with one of ${LORA_COMPONENTS.join(", ")})`);
  }
  return byComponent;
}

/** `unet.down_blocks.0…`: a module path qualified by its component, as adapters name their layers. */
export function qualifiedName(component: LoraComponent, path: string): string {
  return `${component}.${path}`;
}
