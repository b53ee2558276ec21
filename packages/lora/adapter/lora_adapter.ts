import { add, cast, loadTensorInto, Module, noGrad, RandomGenerator, sub, tidy } from "@spo/wgpu-tensor";
import { type LoraComponent, qualifiedName } from "../formats/components.ts";
import { type AdaptableLayer, type LoraLayerOptions, LoraLayer, type LoraOwner } from "../layer/lora_layer.ts";

export interface LoraAdapterOptions {
  /** The adapter's name on every layer it adapts (several adapters may share a layer). Default "default". */
  name?: string;
  /** Multiplier of every branch (A1111's `<lora:name:weight>`). Default 1. */
  weight?: number;
  /** Seed of the initialisation and dropout stream. Default 0. */
  seed?: number;
}

/**
 * One named LoRA over a model (or a UNet and its text encoders): a Module whose children are
 * the `LoraLayer`s it attached, named `<component>.<module path>`, so `namedParameters()` and
 * `stateDict()` give `unet.<path>.lora_A.weight` / `.lora_B.weight` (current diffusers names)
 * and `parameters()` is exactly what an optimizer should train. The base model's own parameter
 * names do not change.
 *
 * Switching: `weight` (and per-component weights) scale the branches at every forward;
 * `isEnabled = false` turns them off (the base model exactly); `merge()` adds ΔW = weight·s·B·A
 * into the base weights (no per-forward cost) and `unmerge()` subtracts the same ΔW again;
 * `remove()` detaches and frees the adapter, leaving the model as it was.
 *
 * @example
 * ```ts
 * const adapter = injectLora(unet, { rank: 4, targetModules: ["to_q", "to_k", "to_v", "to_out.0"] });
 * adapter.weight = 0.7;
 * adapter.isEnabled = false; // the frozen reference model
 * adapter.remove();
 * ```
 */
export class LoraAdapter extends Module implements LoraOwner {
  readonly name: string;
  readonly generator: RandomGenerator;
  readonly #layers = new Map<string, LoraLayer>();
  readonly #componentWeights = new Map<LoraComponent, number>();
  #weight: number;
  #isEnabled = true;
  /** The multiplier each layer's ΔW was merged with, while merged. */
  #merged: Map<LoraLayer, number> | null = null;
  #isRemoved = false;

  constructor(options: LoraAdapterOptions = {}) {
    super();
    this.name = options.name ?? "default";
    this.#weight = checkWeight(this.name, options.weight ?? 1);
    this.generator = new RandomGenerator(options.seed ?? 0);
  }

  /**
   * Adds a LoRA branch to `base` and attaches it under this adapter's name. Throws if the layer
   * already has an adapter of that name.
   */
  addLayer(component: LoraComponent, path: string, base: AdaptableLayer, options: Omit<LoraLayerOptions, "generator">): LoraLayer {
    this.#checkUsable("add a layer to");
    if (this.#merged) throw new Error(`Cannot add a layer to adapter "${this.name}": it is merged; unmerge it first`);
    if (base.adapters.has(this.name)) {
      throw new Error(
        `Cannot add adapter "${this.name}" to "${qualifiedName(component, path)}": the layer already has an adapter of that name`,
      );
    }
    const layer = new LoraLayer(this, component, path, base, { ...options, generator: this.generator });
    this.registerModule(qualifiedName(component, path), layer);
    this.#layers.set(qualifiedName(component, path), layer);
    base.adapters.set(this.name, layer);
    return layer;
  }

  /** The adapted layers in the order they were added. */
  layers(): LoraLayer[] {
    return [...this.#layers.values()];
  }

  layer(component: LoraComponent, path: string): LoraLayer | undefined {
    return this.#layers.get(qualifiedName(component, path));
  }

  get weight(): number {
    return this.#weight;
  }

  /** The multiplier of every component without its own weight. Throws while merged. */
  set weight(value: number) {
    this.#checkUnmerged("change the weight of");
    this.#weight = checkWeight(this.name, value);
  }

  /** A weight for one component only (A1111's separate te/unet multipliers); undefined clears it. */
  setComponentWeight(component: LoraComponent, value: number | undefined): void {
    this.#checkUnmerged("change the weight of");
    if (value === undefined) this.#componentWeights.delete(component);
    else this.#componentWeights.set(component, checkWeight(this.name, value));
  }

  weightFor(component: LoraComponent): number {
    return this.#componentWeights.get(component) ?? this.#weight;
  }

  /** What the layers multiply their branch by now: 0 while disabled or merged (merged ΔW is in W). */
  activeWeight(component: LoraComponent): number {
    if (!this.#isEnabled || this.#merged) return 0;
    return this.weightFor(component);
  }

  get isEnabled(): boolean {
    return this.#isEnabled;
  }

  /** Turns every branch of this adapter on or off. Disabling a merged adapter throws: unmerge first. */
  set isEnabled(value: boolean) {
    if (!value) this.#checkUnmerged("disable");
    this.#isEnabled = value;
  }

  get isMerged(): boolean {
    return this.#merged !== null;
  }

  get isRemoved(): boolean {
    return this.#isRemoved;
  }

  /** W ← W + weight·s·B·A for every layer (computed in f32, cast to W's dtype). */
  merge(): void {
    this.#checkUsable("merge");
    if (this.#merged) throw new Error(`Cannot merge adapter "${this.name}": it is already merged`);
    if (!this.#isEnabled) throw new Error(`Cannot merge adapter "${this.name}": it is disabled`);
    const merged = new Map<LoraLayer, number>();
    for (const layer of this.#layers.values()) {
      const multiplier = this.weightFor(layer.component);
      updateBaseWeight(layer, multiplier, "add");
      merged.set(layer, multiplier);
    }
    this.#merged = merged;
  }

  /** W ← W − ΔW with the ΔW `merge()` added: the base weights back to within f32 rounding. */
  unmerge(): void {
    this.#checkUsable("unmerge");
    if (!this.#merged) throw new Error(`Cannot unmerge adapter "${this.name}": it is not merged`);
    for (const [layer, multiplier] of this.#merged) updateBaseWeight(layer, multiplier, "sub");
    this.#merged = null;
  }

  /**
   * Detaches the adapter from every layer (unmerging first if merged) and frees its parameters.
   * The model is as it was before the adapter was added. Calling it twice does nothing.
   */
  remove(): void {
    if (this.#isRemoved) return;
    if (this.#merged) this.unmerge();
    for (const layer of this.#layers.values()) {
      if (layer.base.adapters.get(this.name) === layer) layer.base.adapters.delete(this.name);
    }
    this.#isRemoved = true;
    this.dispose();
  }

  #checkUsable(action: string): void {
    if (this.#isRemoved) throw new Error(`Cannot ${action} adapter "${this.name}": it was removed`);
  }

  #checkUnmerged(action: string): void {
    if (this.#merged) throw new Error(`Cannot ${action} adapter "${this.name}": it is merged into the base weights; unmerge it first`);
  }
}

function checkWeight(name: string, value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`Cannot set the weight of adapter "${name}": it must be a finite number, got ${value}`);
  return value;
}

/** W ← W ± ΔW in place (the base weight keeps its storage, so every reference sees the change). */
function updateBaseWeight(layer: LoraLayer, multiplier: number, op: "add" | "sub"): void {
  const weight = layer.base.weight;
  noGrad(() =>
    tidy(() => {
      const delta = layer.deltaWeight(multiplier);
      const typed = delta.dtype === weight.dtype ? delta : cast(delta, weight.dtype);
      loadTensorInto(weight, op === "add" ? add(weight, typed) : sub(weight, typed));
    }),
  );
}
