import type { LoraComponent } from "./components.ts";

/**
 * The fields of PEFT's `adapter_config.json` that decide a LoRA's layout and scale. PEFT's
 * scale is `lora_alpha / r` (or `lora_alpha / √r` with `use_rslora`); `rank_pattern` and
 * `alpha_pattern` override r and alpha for the modules whose name ends with a key.
 */
export interface PeftAdapterConfig {
  peft_type?: string;
  r: number;
  lora_alpha: number;
  target_modules?: string[] | string | null;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  use_rslora?: boolean;
  use_dora?: boolean;
  lora_dropout?: number;
  [field: string]: unknown;
}

/**
 * Checks a parsed adapter_config.json: a LoRA (`peft_type` "LORA" or absent) with numeric `r`
 * and `lora_alpha`, not DoRA.
 *
 * @example
 * ```ts
 * const config = parsePeftConfig(JSON.parse(text)); // { r: 4, lora_alpha: 4, target_modules: [...] }
 * ```
 */
export function parsePeftConfig(json: unknown): PeftAdapterConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new TypeError("Cannot read the PEFT adapter config: it is not a JSON object");
  const config = json as Record<string, unknown>;
  if (config.peft_type !== undefined && config.peft_type !== "LORA") {
    throw new TypeError(`Cannot read the PEFT adapter config: peft_type is ${JSON.stringify(config.peft_type)}, only "LORA" is supported`);
  }
  if (typeof config.r !== "number" || typeof config.lora_alpha !== "number") {
    throw new TypeError(
      `Cannot read the PEFT adapter config: r and lora_alpha must be numbers, got ${JSON.stringify(config.r)} and ${JSON.stringify(config.lora_alpha)}`,
    );
  }
  if (config.use_dora === true) throw new TypeError("Cannot read the PEFT adapter config: DoRA adapters (use_dora) are not supported");
  return config as PeftAdapterConfig;
}

/** PEFT's pattern lookup: the first key `k` such that the module name matches `(.*\.)?k$`. */
function patternValue(pattern: Record<string, number> | undefined, path: string): number | undefined {
  for (const [key, value] of Object.entries(pattern ?? {})) {
    if (new RegExp(`^(.*\\.)?${key}$`).test(path)) return value;
  }
  return undefined;
}

/**
 * The network alpha of each module under a PEFT config, in this package's convention
 * (scale = alpha / rank): `lora_alpha` or its `alpha_pattern` entry, and for rsLoRA
 * (scale lora_alpha / √r) the equivalent alpha·√r.
 *
 * @example
 * ```ts
 * peftAlphaOf({ r: 8, lora_alpha: 16 })("unet", "mid_block.attentions.0.proj_in", 8); // 16
 * ```
 */
export function peftAlphaOf(config: PeftAdapterConfig): (component: LoraComponent, path: string, rank: number) => number {
  return (_component, path, rank) => {
    const alpha = patternValue(config.alpha_pattern, path) ?? config.lora_alpha;
    return config.use_rslora ? alpha * Math.sqrt(rank) : alpha;
  };
}

/**
 * The shortest PEFT `target_modules` names for a set of module paths: the last name (with its
 * parent when the last is an index, `to_out.0`). When `allPaths` (every adaptable layer) is
 * given and those names would also match layers outside the set, the full paths are used.
 *
 * @example
 * ```ts
 * targetModuleNames(["a.attn1.to_q", "a.attn1.to_out.0"]); // ["to_out.0", "to_q"]
 * ```
 */
export function targetModuleNames(paths: readonly string[], allPaths?: readonly string[]): string[] {
  const short = (path: string) => {
    const parts = path.split(".");
    const take = /^\d+$/.test(parts.at(-1) ?? "") && parts.length > 1 ? 2 : 1;
    return parts.slice(-take).join(".");
  };
  const names = [...new Set(paths.map(short))].sort();
  if (!allPaths) return names;
  const chosen = new Set(paths);
  const overmatches = allPaths.some((p) => !chosen.has(p) && names.some((n) => p === n || p.endsWith(`.${n}`)));
  return overmatches ? [...chosen].sort() : names;
}
