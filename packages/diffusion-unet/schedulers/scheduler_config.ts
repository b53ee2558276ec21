/**
 * Reading a diffusers `scheduler_config.json` object once, at the boundary: snake_case keys in,
 * typed values out, every wrong type or unsupported value rejected by name.
 * @module
 */

/** What the denoising model predicts: the noise ε, the velocity v = √ᾱ·ε − √(1−ᾱ)·x₀, or x₀ itself. */
export type PredictionType = "epsilon" | "v_prediction" | "sample";

export const PREDICTION_TYPES: readonly PredictionType[] = ["epsilon", "v_prediction", "sample"];

/**
 * Keys that some diffusers scheduler writes to its config. A scheduler ignores the keys of its
 * siblings, as diffusers' `from_config` does (SD1.5 ships a PNDM config that every sampler reads),
 * but a key no scheduler knows is a typo and is rejected.
 */
const DIFFUSERS_SCHEDULER_KEYS: ReadonlySet<string> = new Set([
  "num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "trained_betas", "clip_sample",
  "clip_sample_range", "set_alpha_to_one", "steps_offset", "prediction_type", "thresholding",
  "dynamic_thresholding_ratio", "sample_max_value", "timestep_spacing", "rescale_betas_zero_snr",
  "variance_type", "skip_prk_steps", "solver_order", "algorithm_type", "solver_type", "lower_order_final",
  "euler_at_final", "use_karras_sigmas", "use_lu_lambdas", "use_exponential_sigmas", "use_beta_sigmas",
  "use_flow_sigmas", "flow_shift", "final_sigmas_type", "lambda_min_clipped", "interpolation_type",
  "sigma_min", "sigma_max", "sigma_data", "rho", "timestep_type", "disable_corrector", "predict_x0",
  "solver_p", "original_inference_steps", "timestep_scaling", "s_noise", "noise_sampler_seed",
  "predict_epsilon", "tensor_format", "shift", "use_dynamic_shifting", "base_shift", "max_shift",
  "base_image_seq_len", "max_image_seq_len", "invert_sigmas", "shift_terminal", "time_shift_type",
  "stochastic_sampling", "sigma_schedule",
]);

/**
 * A config asks for a diffusers feature this port does not implement (e.g. `thresholding: true`,
 * `algorithm_type: "sde-dpmsolver++"`). Invalid values (typos, wrong types) throw TypeError or
 * RangeError instead.
 */
export class UnsupportedConfigError extends RangeError {
  override name = "UnsupportedConfigError";

  constructor(readonly scheduler: string, readonly key: string, message: string) {
    super(message);
  }
}

/**
 * Reads one scheduler's fields from a diffusers config dict. Each accessor marks its key as read and
 * returns diffusers' default when the key is absent; `finish()` then rejects unknown keys.
 *
 * @example
 * ```ts
 * const reader = new DiffusersConfigReader("DDIMScheduler", { beta_schedule: "scaled_linear" });
 * reader.choice("beta_schedule", ["linear", "scaled_linear"] as const, "linear"); // "scaled_linear"
 * reader.integer("num_train_timesteps", 1000); // 1000 (the default)
 * reader.finish();
 * ```
 */
export class DiffusersConfigReader {
  readonly #className: string;
  readonly #json: Record<string, unknown>;

  constructor(className: string, json: unknown) {
    this.#className = className;
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new TypeError(`Cannot read ${className} config: expected a diffusers config object, got ${describe(json)}`);
    }
    this.#json = json as Record<string, unknown>;
  }

  /** A finite number (or ±Infinity when `allowInfinite`). */
  number(key: string, fallback: number, options: { allowInfinite?: boolean } = {}): number {
    const value = this.#get(key, fallback);
    const isAccepted = typeof value === "number" && (Number.isFinite(value) || (options.allowInfinite === true && !Number.isNaN(value)));
    if (!isAccepted) this.#fail(key, value, options.allowInfinite ? "a number" : "a finite number");
    return value as number;
  }

  /** An integer of at least `min`. */
  integer(key: string, fallback: number, min = 0): number {
    const value = this.#get(key, fallback);
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) this.#fail(key, value, `an integer >= ${min}`);
    return value as number;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.#get(key, fallback);
    if (typeof value !== "boolean") this.#fail(key, value, "true or false");
    return value as boolean;
  }

  /**
   * One of the listed strings (or `null` when it is listed). `unsupported` lists values diffusers
   * accepts but this port does not implement: they throw `UnsupportedConfigError`.
   */
  choice<T extends string | null>(key: string, choices: readonly T[], fallback: T, unsupported: readonly string[] = []): T {
    const value = this.#get(key, fallback);
    if (typeof value === "string" && unsupported.includes(value)) this.#unsupported(key, value, choices);
    if (!choices.includes(value as T)) {
      this.#fail(key, value, `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`);
    }
    return value as T;
  }

  /** `null`, or an array of finite numbers. */
  numbersOrNull(key: string): number[] | null {
    const value = this.#get(key, null);
    if (value === null) return null;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
      this.#fail(key, value, "null or an array of numbers");
    }
    return [...(value as number[])];
  }

  /**
   * Rejects a feature this port does not implement: the key may be absent or hold `supported`
   * (diffusers' neutral value); anything else throws, naming the key and the value.
   */
  unsupported(key: string, supported: unknown): void {
    if (!(key in this.#json) || this.#json[key] === supported) return;
    this.#unsupported(key, this.#json[key], [supported]);
  }

  /** Throws on a key that no diffusers scheduler writes (underscore metadata keys are fine). */
  finish(): void {
    for (const key of Object.keys(this.#json)) {
      if (key.startsWith("_") || DIFFUSERS_SCHEDULER_KEYS.has(key)) continue;
      throw new RangeError(`Cannot read ${this.#className} config: unknown key "${key}"`);
    }
  }

  #get(key: string, fallback: unknown): unknown {
    return key in this.#json ? this.#json[key] : fallback;
  }

  #unsupported(key: string, value: unknown, supported: readonly unknown[]): never {
    const only = supported.map((v) => JSON.stringify(v)).join(", ");
    throw new UnsupportedConfigError(this.#className, key, `Cannot configure ${this.#className}: ${key}=${JSON.stringify(value)} is not supported (only ${only})`);
  }

  #fail(key: string, value: unknown, expected: string): never {
    throw new TypeError(`Cannot read ${this.#className} config: ${key} is ${describe(value)}, expected ${expected}`);
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * Parses the text of a diffusers JSON config. Python's `json` writes `Infinity`, `-Infinity` and
 * `NaN` (e.g. `"lambda_min_clipped": -Infinity` in every DPM-Solver config), which `JSON.parse`
 * rejects; this accepts them as the numbers they name.
 *
 * @example
 * ```ts
 * parseDiffusersJson('{"lambda_min_clipped": -Infinity}'); // { lambda_min_clipped: -Infinity }
 * ```
 */
export function parseDiffusersJson(text: string): unknown {
  const marker = "__spo_nonfinite__";
  // Replace the bare tokens outside strings: walk string literals and rewrite only between them.
  let rewritten = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === '"') {
      const end = endOfString(text, i);
      rewritten += text.slice(i, end);
      i = end;
      continue;
    }
    const token = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
    if (token) {
      rewritten += JSON.stringify(`${marker}${token[1]}`);
      i += token[1].length;
      continue;
    }
    rewritten += char;
    i++;
  }
  return JSON.parse(rewritten, (_key, value) => {
    if (typeof value === "string" && value.startsWith(marker)) return Number(value.slice(marker.length));
    return value;
  });
}

function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

/**
 * `scheduler/scheduler_config.json` of runwayml/stable-diffusion-v1-5 (a PNDM config; every
 * scheduler here reads the keys it knows from it).
 *
 * @example
 * ```ts
 * const scheduler = DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
 * ```
 */
export const SD15_SCHEDULER_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  _class_name: "PNDMScheduler",
  _diffusers_version: "0.6.0",
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
});
