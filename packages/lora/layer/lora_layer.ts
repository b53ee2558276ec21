import {
  add,
  cast,
  Conv2d,
  conv2d,
  type DType,
  ge,
  Linear,
  linear,
  loadTensorInto,
  matmul,
  Module,
  mul,
  noGrad,
  type RandomGenerator,
  reshape,
  type Tensor,
  tidy,
  zeros,
} from "@spo/wgpu-tensor";
import type { LoraComponent } from "../formats/components.ts";

/**
 * How a new LoRA fills its matrices (PEFT's `init_lora_weights`):
 * - `"default"`: A kaiming-uniform (a = √5, i.e. U(±1/√fan_in), torch's Linear default), B zero;
 * - `"gaussian"`: A ~ N(0, (1/r)²), B zero (what SPO trains with);
 * - `"zeros"`: both zero, to be filled by a load;
 * - `"meta"`: shape only, no memory (for layout checks on shape-only models).
 * With B zero the adapted model starts equal to the base model.
 */
export type LoraInit = "default" | "gaussian" | "zeros" | "meta";

/** What a layer asks its adapter at every forward. */
export interface LoraOwner {
  readonly name: string;
  /** The multiplier for a component now: 0 while the adapter is disabled or merged. */
  activeWeight(component: LoraComponent): number;
}

export interface LoraLayerOptions {
  rank: number;
  /** Network alpha: scale = alpha / rank. null or undefined: scale 1. */
  alpha?: number | null;
  /** Dropout probability on the LoRA input while the base layer is in training mode. */
  dropout?: number;
  init?: LoraInit;
  /** Draws the initial A and the dropout masks. */
  generator: RandomGenerator;
  /** dtype of A and B (default f32, also over an f16 base: the branch runs in f32 and is cast back). */
  dtype?: DType;
  /** Whether A and B take gradients (default true). */
  requiresGrad?: boolean;
}

/** A base layer a LoRA can adapt. */
export type AdaptableLayer = Linear | Conv2d;

/**
 * The low-rank branch on one Linear or Conv2d: `y = base(x) + s·B(A(dropout(x)))` with
 * A = `lora_A` ([r, in], or a conv with the base's kernel, stride, padding and dilation) and
 * B = `lora_B` ([out, r], or a 1×1 conv), s = multiplier · alpha/r. Equivalently the base weight
 * becomes W + s·B·A (for a conv, B[:, :, 0, 0]·A reshaped to [out, in, kH, kW]).
 *
 * Gradient: dA = s·Bᵀ·dy·xᵀ and dB = s·dy·(A·x)ᵀ (summed over positions); the base layer's own
 * parameters are untouched by the branch.
 *
 * @example
 * ```ts
 * const base = new Linear(16, 8);
 * const lora = new LoraLayer(owner, "unet", "proj", base, { rank: 4, generator: new RandomGenerator(0) });
 * base.adapters.set(owner.name, lora);
 * base.forward(x); // = x·Wᵀ + b until B is trained away from zero
 * ```
 */
export class LoraLayer extends Module {
  readonly owner: LoraOwner;
  readonly component: LoraComponent;
  readonly path: string;
  readonly base: AdaptableLayer;
  readonly rank: number;
  readonly alpha: number | null;
  readonly dropout: number;
  readonly lora_A: AdaptableLayer;
  readonly lora_B: AdaptableLayer;
  readonly #generator: RandomGenerator;

  constructor(owner: LoraOwner, component: LoraComponent, path: string, base: AdaptableLayer, options: LoraLayerOptions) {
    super();
    const { rank } = options;
    if (!Number.isInteger(rank) || rank < 1)
      throw new RangeError(`Cannot add a LoRA to "${path}": rank must be a positive integer, got ${rank}`);
    const dropout = options.dropout ?? 0;
    if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`Cannot add a LoRA to "${path}": dropout must be in [0, 1), got ${dropout}`);
    if (base instanceof Conv2d && base.options.groups !== 1) {
      throw new RangeError(`Cannot add a LoRA to "${path}": grouped convolutions (groups ${base.options.groups}) are not supported`);
    }
    this.owner = owner;
    this.component = component;
    this.path = path;
    this.base = base;
    this.rank = rank;
    this.alpha = options.alpha ?? null;
    this.dropout = dropout;
    this.#generator = options.generator;
    const layer = { init: "meta" as const, device: base.weight.device, dtype: options.dtype ?? "f32", bias: false };
    if (base instanceof Linear) {
      this.lora_A = this.registerModule("lora_A", new Linear(base.inFeatures, rank, layer));
      this.lora_B = this.registerModule("lora_B", new Linear(rank, base.outFeatures, layer));
    } else {
      const [out, inChannels, kH, kW] = base.weight.shape;
      const { stride, padding, dilation } = base.options;
      this.lora_A = this.registerModule("lora_A", new Conv2d(inChannels, rank, [kH, kW], { ...layer, stride, padding, dilation }));
      this.lora_B = this.registerModule("lora_B", new Conv2d(rank, out, 1, layer));
    }
    this.#initialize(options.init ?? "default");
    this.requiresGrad_(options.requiresGrad ?? true);
  }

  /** alpha / rank, or 1 without alpha. */
  get scale(): number {
    return this.alpha === null ? 1 : this.alpha / this.rank;
  }

  /** The base output plus this branch (or `y` itself while the adapter is off or its weight is 0). */
  apply(x: Tensor, y: Tensor): Tensor {
    const weight = this.owner.activeWeight(this.component);
    if (weight === 0) return y;
    const scale = weight * this.scale;
    const down = this.lora_A.weight;
    const typed = x.dtype === down.dtype ? x : cast(x, down.dtype);
    const input = this.#dropoutInput(typed);
    const hidden = this.base instanceof Linear ? linear(input, down) : conv2d(input, down, undefined, this.base.options);
    for (const t of new Set([typed, input])) if (t !== x) t.dispose();
    // up-projection, then scale and add as elementwise ops: on lavapipe the matmul variants with
    // a fused alpha/residual epilogue take 10-30 s to compile, the plain one a fraction of a second
    const up = this.base instanceof Linear ? linear(hidden, this.lora_B.weight) : conv2d(hidden, this.lora_B.weight);
    const scaled = scale === 1 ? up : mul(up, scale);
    const branch = scaled.dtype === y.dtype ? scaled : cast(scaled, y.dtype);
    const out = add(y, branch);
    for (const t of new Set([up, scaled, branch])) t.dispose();
    hidden.dispose();
    return out;
  }

  /** ΔW = multiplier·scale·B·A in the base weight's shape, f32 (no gradient). */
  deltaWeight(multiplier: number): Tensor {
    return noGrad(() =>
      tidy(() => {
        const up = this.lora_B.weight;
        const down = this.lora_A.weight;
        const scale = multiplier * this.scale;
        if (this.base instanceof Linear) return mul(matmul(up, down), scale);
        const up2d = reshape(up, [up.shape[0], this.rank]);
        const down2d = reshape(down, [this.rank, -1]);
        return reshape(mul(matmul(up2d, down2d), scale), this.base.weight.shape);
      }),
    );
  }

  #dropoutInput(x: Tensor): Tensor {
    if (this.dropout === 0 || !this.base.isTraining) return x;
    const keepProbability = 1 - this.dropout;
    const uniform = this.#generator.rand(x.shape, { dtype: x.dtype });
    const mask = ge(uniform, this.dropout);
    const scaledMask = mul(mask, 1 / keepProbability);
    const dropped = mul(x, scaledMask);
    uniform.dispose();
    mask.dispose();
    scaledMask.dispose();
    return dropped;
  }

  #initialize(init: LoraInit): void {
    if (init === "meta") return;
    noGrad(() =>
      tidy(() => {
        const down = this.lora_A.weight;
        const up = this.lora_B.weight;
        const fanIn = down.shape.slice(1).reduce((a, b) => a * b, 1);
        let initial: Tensor;
        if (init === "gaussian") {
          initial = mul(this.#generator.randn(down.shape, { dtype: down.dtype }), 1 / this.rank);
        } else if (init === "default") {
          // kaiming_uniform(a=√5): bound = √(6 / ((1 + a²)·fan_in)) = 1/√fan_in
          const unit = this.#generator.rand(down.shape, { dtype: down.dtype });
          initial = mul(add(mul(unit, 2), -1), 1 / Math.sqrt(fanIn));
        } else {
          initial = zeros(down.shape, { device: down.device, dtype: down.dtype });
        }
        loadTensorInto(down, initial);
        loadTensorInto(up, zeros(up.shape, { device: up.device, dtype: up.dtype }));
      }),
    );
  }
}
