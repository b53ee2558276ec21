/**
 * Reading diffusers' and transformers' config.json objects once, at the boundary: one reader that
 * rejects wrong types and unknown keys by name, and one error for features not implemented. The
 * model and scheduler packages all build on these.
 * @module
 */

/**
 * A config asks for a feature this implementation does not have (e.g. a scheduler's
 * `thresholding: true`, a VAE's `act_fn: "gelu"`), as opposed to an invalid value (a typo, a wrong
 * type), which throws TypeError or RangeError. Every @spo package throws this one class.
 *
 * @example
 * ```ts
 * try {
 *   DDIMScheduler.fromConfig({ thresholding: true });
 * } catch (error) {
 *   if (error instanceof UnsupportedConfigError) console.log(error.component, error.key); // DDIMScheduler thresholding
 * }
 * ```
 */
export class UnsupportedConfigError extends RangeError {
  override name = "UnsupportedConfigError";
  /** The class or model whose config was read, when known (e.g. "DDIMScheduler"). */
  readonly component: string;
  /** The config key at fault, when known (e.g. "thresholding"). */
  readonly key: string;

  constructor(message: string, options: { component?: string; key?: string } = {}) {
    super(message);
    this.component = options.component ?? "";
    this.key = options.key ?? "";
  }
}

/** What a reader accepts beyond the keys it reads. */
export interface ConfigReaderOptions {
  /**
   * Keys a config may hold that this reader does not read (e.g. the keys of sibling schedulers in
   * one shared scheduler_config.json); `finish()` rejects any other unread key. Default: none.
   */
  knownKeys?: ReadonlySet<string>;
}

/**
 * Reads a model's or scheduler's fields from a diffusers (or transformers) config dict, once, at the
 * boundary: snake_case keys in, typed values out. Each accessor marks its key as read and returns
 * the default when the key is absent; `finish()` then rejects keys neither read nor known.
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
  readonly #knownKeys: ReadonlySet<string>;
  readonly #readKeys = new Set<string>();

  constructor(className: string, json: unknown, options: ConfigReaderOptions = {}) {
    this.#className = className;
    this.#knownKeys = options.knownKeys ?? new Set();
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
    this.#readKeys.add(key);
    if (!(key in this.#json) || this.#json[key] === supported) return;
    this.#unsupported(key, this.#json[key], [supported]);
  }

  /** Throws on a key that was neither read nor known (underscore metadata keys are fine). */
  finish(): void {
    for (const key of Object.keys(this.#json)) {
      if (key.startsWith("_") || this.#readKeys.has(key) || this.#knownKeys.has(key)) continue;
      throw new RangeError(`Cannot read ${this.#className} config: unknown key "${key}"`);
    }
  }

  #get(key: string, fallback: unknown): unknown {
    this.#readKeys.add(key);
    return key in this.#json ? this.#json[key] : fallback;
  }

  #unsupported(key: string, value: unknown, supported: readonly unknown[]): never {
    const only = supported.map((v) => JSON.stringify(v)).join(", ");
    throw new UnsupportedConfigError(
      `Cannot configure ${this.#className}: ${key}=${JSON.stringify(value)} is not supported (only ${only})`,
      { component: this.#className, key },
    );
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
