import { KOHYA_COMPONENTS, LORA_COMPONENTS, type LoraComponent } from "./components.ts";

/** What a LoRA tensor is: the down (A, [r, in]) or up (B, [out, r]) matrix, or the alpha scalar. */
export type LoraRole = "down" | "up" | "alpha";

/**
 * The naming families this package reads and writes:
 * - `diffusers`: `unet.<path>.lora.down.weight` / `.lora.up.weight` (SPO's published files; also
 *   the attention-processor names `…processor.to_q_lora.down.weight` and the text encoder's
 *   `…lora_linear_layer.down.weight`);
 * - `diffusers-peft`: `unet.<path>.lora_A.weight` / `.lora_B.weight` (current diffusers);
 * - `peft`: `base_model.model.<path>.lora_A.weight` / `.lora_B.weight` with adapter_config.json;
 * - `kohya`: `lora_unet_<path with . → _>.lora_down.weight` / `.lora_up.weight` / `.alpha`.
 */
export type LoraFormat = "diffusers" | "diffusers-peft" | "peft" | "kohya";

/** Every format, in the order of the docs. */
export const LORA_FORMATS: readonly LoraFormat[] = ["diffusers", "diffusers-peft", "peft", "kohya"];

/** Where a key points: a dotted module path (diffusers/PEFT) or a flat kohya name still to resolve. */
export type ModuleRef = { dotted: string } | { kohya: string };

/** One classified key of a LoRA file. */
export type ParsedLoraKey =
  | {
      type: "lora";
      format: LoraFormat;
      /** The component the key names, or null when it names none (PEFT files, bare diffusers keys). */
      component: LoraComponent | null;
      module: ModuleRef;
      role: LoraRole;
    }
  /** A LoRA-like tensor of a kind this package does not implement (LoHa, LoKr, DoRA, …). */
  | { type: "unsupported"; detail: string }
  /** Not a LoRA tensor at all. */
  | { type: "other" };

const KOHYA_KEY = /^lora_(unet|te|te1|te2)_(.+?)\.(lora_down\.weight|lora_up\.weight|alpha)$/;
const KOHYA_ANY = /^lora_(unet|te|te1|te2)_/;
const LYCORIS_PARTS =
  /\.(hada_w[12]_[ab]|hada_t[12]|lokr_w[12](_[ab])?|lokr_t2|lora_mid\.weight|dora_scale|diff|diff_b|w_norm|b_norm|oft_blocks|oft_diag|rescale|lora_magnitude_vector(\.[^.]+)?)$/;
const DOTTED_PREFIXES: readonly [string, LoraComponent | null, LoraFormat | null][] = [
  ["base_model.model.", null, "peft"],
  ...LORA_COMPONENTS.map((c): [string, LoraComponent, null] => [`${c}.`, c, null]),
];

/** Suffix rules for dotted keys: the module path is the first group. */
const DOTTED_RULES: readonly {
  pattern: RegExp;
  format: LoraFormat;
  role: (m: RegExpExecArray) => LoraRole;
  path?: (m: RegExpExecArray) => string;
}[] = [
  { pattern: /^(.+)\.lora_A(?:\.[^.]+)?\.weight$/, format: "diffusers-peft", role: () => "down" },
  { pattern: /^(.+)\.lora_B(?:\.[^.]+)?\.weight$/, format: "diffusers-peft", role: () => "up" },
  { pattern: /^(.+)\.lora(?:_linear_layer)?\.(down|up)\.weight$/, format: "diffusers", role: (m) => m[2] as LoraRole },
  {
    pattern: /^(.+)\.processor\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/,
    format: "diffusers",
    role: (m) => m[3] as LoraRole,
    path: (m) => `${m[1]}.${m[2] === "to_out" ? "to_out.0" : m[2]}`,
  },
  { pattern: /^(.+)\.lora_(down|up)\.weight$/, format: "diffusers", role: (m) => m[2] as LoraRole },
  { pattern: /^(.+)\.alpha$/, format: "diffusers", role: () => "alpha" },
];

/**
 * Classifies one key of a LoRA file: which module (a dotted path, or a kohya name to resolve
 * against the model's module table), which tensor, which naming family.
 *
 * @example
 * ```ts
 * parseLoraKey("unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_q.lora.down.weight");
 * // { type: "lora", format: "diffusers", component: "unet", role: "down",
 * //   module: { dotted: "mid_block.attentions.0.transformer_blocks.0.attn1.to_q" } }
 * parseLoraKey("lora_te_text_model_encoder_layers_0_mlp_fc1.alpha");
 * // { type: "lora", format: "kohya", component: "text_encoder", role: "alpha",
 * //   module: { kohya: "text_model_encoder_layers_0_mlp_fc1" } }
 * ```
 */
export function parseLoraKey(key: string): ParsedLoraKey {
  if (LYCORIS_PARTS.test(key)) {
    return { type: "unsupported", detail: "a LyCORIS/DoRA tensor (LoHa, LoKr, CP-decomposed or DoRA LoRAs are not supported)" };
  }
  if (KOHYA_ANY.test(key)) {
    const match = KOHYA_KEY.exec(key);
    if (!match) return { type: "other" };
    const role: LoraRole = match[3] === "alpha" ? "alpha" : match[3] === "lora_down.weight" ? "down" : "up";
    return { type: "lora", format: "kohya", component: KOHYA_COMPONENTS[match[1]], module: { kohya: match[2] }, role };
  }
  let rest = key;
  let component: LoraComponent | null = null;
  let prefixFormat: LoraFormat | null = null;
  for (const [prefix, prefixComponent, format] of DOTTED_PREFIXES) {
    if (!rest.startsWith(prefix)) continue;
    rest = rest.slice(prefix.length);
    component = prefixComponent;
    prefixFormat = format;
    break;
  }
  for (const rule of DOTTED_RULES) {
    const match = rule.pattern.exec(rest);
    if (!match) continue;
    const path = rule.path ? rule.path(match) : match[1];
    const format = prefixFormat ?? rule.format;
    return { type: "lora", format, component, module: { dotted: path }, role: rule.role(match) };
  }
  return { type: "other" };
}

const TWO_ENCODER_KEY = /^(lora_te[12]_|text_encoder_2\.)/;

/**
 * Whether a key names a text encoder of a two-encoder model (SDXL): kohya's `lora_te1_` and
 * `lora_te2_`, or diffusers' `text_encoder_2.`.
 *
 * @example
 * ```ts
 * namesTwoTextEncoders("lora_te1_text_model_encoder_layers_0_mlp_fc1.alpha"); // true
 * namesTwoTextEncoders("lora_te_text_model_encoder_layers_0_mlp_fc1.alpha"); // false
 * ```
 */
export function namesTwoTextEncoders(key: string): boolean {
  return TWO_ENCODER_KEY.test(key);
}
