import { diffusersToLdmUNetKey, UNet2DConditionModel } from "@spo/diffusion-unet";
import { Conv2d, Linear, type Module } from "@spo/wgpu-tensor";
import type { LoraComponent } from "./components.ts";

/** A layer a LoRA can adapt, as far as the table knows it. */
export interface LayerInfo {
  /** Its dotted module path in its component (`down_blocks.0.attentions.0.proj_in`). */
  path: string;
  /** `"unknown"` when only the name is known (conversion without a model). */
  kind: "linear" | "conv" | "unknown";
  /** The base weight's shape ([out, in] or [out, in/groups, kH, kW]); null when unknown. */
  weightShape: readonly number[] | null;
  groups: number;
  /** The live layer, when the table was built from a model. */
  layer: Linear | Conv2d | null;
}

interface ComponentTable {
  layers: Map<string, LayerInfo>;
  /** kohya flat name (`down_blocks_0_attentions_0_proj_in`, or an LDM alias) → module path. */
  kohya: Map<string, string>;
}

/**
 * The adaptable layers (every `Linear` and `Conv2d`) of each component by their real module
 * paths, plus the flat kohya names that point at them. kohya names replace `.` by `_`, which
 * cannot be undone by rule (`to_q`, `proj_in`, `transformer_blocks`, `ff.net.0.proj`), so they
 * are looked up here instead. For a diffusers UNet the original LDM names
 * (`input_blocks_1_1_proj_in`) are in the table too.
 *
 * @example
 * ```ts
 * const table = LayerTable.fromModels(new Map([["unet", unet]]));
 * table.resolveKohya("unet", "mid_block_attentions_0_transformer_blocks_0_attn1_to_out_0");
 * // "mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0"
 * ```
 */
export class LayerTable {
  readonly #components = new Map<LoraComponent, ComponentTable>();

  /** Every Linear and Conv2d of the given models. */
  static fromModels(models: ReadonlyMap<LoraComponent, Module>): LayerTable {
    const table = new LayerTable();
    for (const [component, model] of models) {
      const aliases = model instanceof UNet2DConditionModel ? ldmAliases(model) : undefined;
      for (const [path, module] of model.namedModules()) {
        if (!(module instanceof Linear || module instanceof Conv2d) || path === "") continue;
        const isConv = module instanceof Conv2d;
        const info: LayerInfo = {
          path,
          kind: isConv ? "conv" : "linear",
          weightShape: [...module.weight.shape],
          groups: isConv ? module.options.groups : 1,
          layer: module,
        };
        table.add(component, info, aliases?.(path));
      }
    }
    return table;
  }

  /**
   * Layers from a checkpoint's weight names and shapes (`<path>.weight` of rank 2 or 4), for
   * merging into a checkpoint file without building the model.
   */
  static fromWeightShapes(component: LoraComponent, shapes: Iterable<[string, readonly number[]]>): LayerTable {
    const table = new LayerTable();
    for (const [name, shape] of shapes) {
      if (!name.endsWith(".weight") || (shape.length !== 2 && shape.length !== 4)) continue;
      const path = name.slice(0, -".weight".length);
      table.add(component, { path, kind: shape.length === 2 ? "linear" : "conv", weightShape: [...shape], groups: 1, layer: null });
    }
    return table;
  }

  /** Layers known by name only (shapes unchecked): enough to resolve kohya names when converting. */
  static fromNames(component: LoraComponent, paths: Iterable<string>): LayerTable {
    const table = new LayerTable();
    for (const path of paths) table.add(component, { path, kind: "unknown", weightShape: null, groups: 1, layer: null });
    return table;
  }

  /** This table and `other` together (other's entries win on a clash). */
  merge(other: LayerTable): this {
    for (const [component, entries] of other.#components) {
      const mine = this.#componentTable(component);
      for (const [path, info] of entries.layers) mine.layers.set(path, info);
      for (const [flat, path] of entries.kohya) mine.kohya.set(flat, path);
    }
    return this;
  }

  /** Adds a layer under its path and its kohya names (the path's, and any aliases'). */
  add(component: LoraComponent, info: LayerInfo, aliases: readonly string[] = []): void {
    const entries = this.#componentTable(component);
    entries.layers.set(info.path, info);
    for (const name of [info.path, ...aliases]) entries.kohya.set(name.replaceAll(".", "_"), info.path);
  }

  hasComponent(component: LoraComponent): boolean {
    return this.#components.has(component);
  }

  components(): LoraComponent[] {
    return [...this.#components.keys()];
  }

  layer(component: LoraComponent, path: string): LayerInfo | undefined {
    return this.#components.get(component)?.layers.get(path);
  }

  layers(component: LoraComponent): LayerInfo[] {
    return [...(this.#components.get(component)?.layers.values() ?? [])];
  }

  /** The module path a kohya flat name (without its `lora_unet_` prefix) stands for. */
  resolveKohya(component: LoraComponent, flatName: string): string | undefined {
    return this.#components.get(component)?.kohya.get(flatName);
  }

  #componentTable(component: LoraComponent): ComponentTable {
    let entries = this.#components.get(component);
    if (!entries) {
      entries = { layers: new Map(), kohya: new Map() };
      this.#components.set(component, entries);
    }
    return entries;
  }
}

/** The LDM module path of a diffusers UNet layer (A1111 resolves kohya names through these). */
function ldmAliases(unet: UNet2DConditionModel): (path: string) => string[] {
  return (path) => {
    try {
      return [diffusersToLdmUNetKey(`${path}.weight`, unet.config).slice(0, -".weight".length)];
    } catch {
      return [];
    }
  };
}

/**
 * The Linear layers of Stable Diffusion 1.5's CLIP ViT-L/14 text encoder (12 layers), by their
 * transformers module paths: the table kohya `lora_te_` names resolve against when converting
 * a file without a text encoder model at hand.
 *
 * @example
 * ```ts
 * sd15TextEncoderLayerPaths().length; // 72
 * sd15TextEncoderLayerPaths()[0]; // "text_model.encoder.layers.0.self_attn.k_proj"
 * ```
 */
export function sd15TextEncoderLayerPaths(layerCount = 12): string[] {
  const paths: string[] = [];
  for (let i = 0; i < layerCount; i++) {
    const layer = `text_model.encoder.layers.${i}`;
    for (const name of ["k_proj", "v_proj", "q_proj", "out_proj"]) paths.push(`${layer}.self_attn.${name}`);
    paths.push(`${layer}.mlp.fc1`, `${layer}.mlp.fc2`);
  }
  return paths;
}
