import type { TensorInput } from "@spo/safetensors";
import { KOHYA_PREFIXES, type LoraComponent } from "./components.ts";
import type { LoraFormat } from "./lora_keys.ts";
import { type PeftAdapterConfig, targetModuleNames } from "./peft_config.ts";

/** Host values of one matrix: row-major float32 with its shape. */
export interface HostMatrix {
  shape: number[];
  data: Float32Array;
}

/** The LoRA of one layer on the host: what every format writes. */
export interface LoraModuleWeights {
  component: LoraComponent;
  path: string;
  rank: number;
  /** Network alpha (scale alpha/rank); null means scale 1. */
  alpha: number | null;
  /** [r, in] or [r, in, kH, kW]. */
  down: HostMatrix;
  /** [out, r] or [out, r, 1, 1]. */
  up: HostMatrix;
}

/** A LoRA laid out for one format: the tensors, the file metadata, and PEFT's adapter_config.json. */
export interface FormattedLora {
  tensors: Map<string, TensorInput>;
  metadata: Record<string, string>;
  /** Only for `peft`: the adapter_config.json to write beside the weights. */
  adapterConfig: PeftAdapterConfig | null;
}

export interface FormatOptions {
  /** Every adaptable layer path of the model, so PEFT target_modules never over-match. */
  allPaths?: readonly string[];
}

/**
 * Names and lays out host LoRA weights in one format. Formats without alphas (diffusers,
 * diffusers-peft) get the scale alpha/rank folded into the up matrix, so any reader that
 * assumes scale 1 (as diffusers does) computes the same ΔW; PEFT gets it in adapter_config.json
 * (`lora_alpha`, with `rank_pattern`/`alpha_pattern` where modules differ); kohya gets one
 * `.alpha` scalar per module. PEFT files hold one component (no component prefix).
 *
 * @example
 * ```ts
 * const { tensors } = formatLora(modules, "kohya");
 * [...tensors.keys()][0]; // "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight"
 * ```
 */
export function formatLora(modules: readonly LoraModuleWeights[], format: LoraFormat, options: FormatOptions = {}): FormattedLora {
  const tensors = new Map<string, TensorInput>();
  const matrix = (m: HostMatrix): TensorInput => ({ dtype: "F32", shape: m.shape, data: m.data });
  if (format === "kohya") {
    for (const m of modules) {
      const name = `${KOHYA_PREFIXES[m.component]}_${m.path.replaceAll(".", "_")}`;
      tensors.set(`${name}.lora_down.weight`, matrix(m.down));
      tensors.set(`${name}.lora_up.weight`, matrix(m.up));
      tensors.set(`${name}.alpha`, { dtype: "F32", shape: [], data: Float32Array.of(m.alpha ?? m.rank) });
    }
    const common = mostCommon(modules.map((m) => [m.rank, m.alpha ?? m.rank] as const));
    const metadata: Record<string, string> = { ss_network_module: "networks.lora" };
    if (common) Object.assign(metadata, { ss_network_dim: String(common[0]), ss_network_alpha: String(common[1]) });
    return { tensors, metadata, adapterConfig: null };
  }
  if (format === "peft") return formatPeft(modules, options);
  for (const m of modules) {
    const base = `${m.component}.${m.path}`;
    const up = matrix(foldScale(m));
    if (format === "diffusers-peft") {
      tensors.set(`${base}.lora_A.weight`, matrix(m.down));
      tensors.set(`${base}.lora_B.weight`, up);
    } else {
      // the attention-processor era names: `.lora.` for UNet layers, `.lora_linear_layer.` for the text encoders
      const infix = m.component === "unet" ? "lora" : "lora_linear_layer";
      tensors.set(`${base}.${infix}.down.weight`, matrix(m.down));
      tensors.set(`${base}.${infix}.up.weight`, up);
    }
  }
  return { tensors, metadata: { format: "pt" }, adapterConfig: null };
}

function formatPeft(modules: readonly LoraModuleWeights[], options: FormatOptions): FormattedLora {
  const components = new Set(modules.map((m) => m.component));
  if (components.size > 1) {
    throw new RangeError(
      `Cannot write a PEFT LoRA for ${[...components].join(" and ")}: a PEFT file adapts one model; write one per component`,
    );
  }
  const tensors = new Map<string, TensorInput>();
  for (const m of modules) {
    tensors.set(`base_model.model.${m.path}.lora_A.weight`, { dtype: "F32", shape: m.down.shape, data: m.down.data });
    tensors.set(`base_model.model.${m.path}.lora_B.weight`, { dtype: "F32", shape: m.up.shape, data: m.up.data });
  }
  const [r, alpha] = mostCommon(modules.map((m) => [m.rank, m.alpha ?? m.rank] as const)) ?? [0, 0];
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  for (const m of modules) {
    if (m.rank !== r) rankPattern[m.path] = m.rank;
    if ((m.alpha ?? m.rank) !== alpha) alphaPattern[m.path] = m.alpha ?? m.rank;
  }
  const adapterConfig: PeftAdapterConfig = {
    peft_type: "LORA",
    r,
    lora_alpha: alpha,
    target_modules: targetModuleNames(
      modules.map((m) => m.path),
      options.allPaths,
    ),
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    lora_dropout: 0,
    bias: "none",
    use_rslora: false,
    use_dora: false,
    init_lora_weights: true,
    fan_in_fan_out: false,
  };
  return { tensors, metadata: { format: "pt" }, adapterConfig };
}

/** up·(alpha/rank): the same ΔW for a reader that assumes scale 1. */
function foldScale(m: LoraModuleWeights): HostMatrix {
  if (m.alpha === null || m.alpha === m.rank) return m.up;
  const scale = m.alpha / m.rank;
  return { shape: m.up.shape, data: m.up.data.map((v) => v * scale) };
}

/** The most frequent value (first seen on a tie). */
function mostCommon<T extends readonly unknown[]>(values: readonly T[]): T | undefined {
  const counts = new Map<string, { value: T; count: number }>();
  for (const value of values) {
    const key = JSON.stringify(value);
    const entry = counts.get(key) ?? { value, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  let best: { value: T; count: number } | undefined;
  for (const entry of counts.values()) if (!best || entry.count > best.count) best = entry;
  return best?.value;
}
