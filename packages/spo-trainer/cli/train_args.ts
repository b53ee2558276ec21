/**
 * `spo train` arguments: a JSON config file (`--config spo.json`) overlaid by flags, every
 * training setting of `SPO_TRAIN_DEFAULTS` as a kebab-case flag (`--learning-rate 6e-5`,
 * `--pool-size 4`, …), validated before any model is loaded. Free of Node built-ins.
 *
 * @module
 */

import { resolveTrainConfig, SPO_TRAIN_DEFAULTS, type SpoTrainConfig, TrainConfigError } from "../training/train_config.ts";

/** What `spo train` runs. */
export interface TrainCommand {
  /** Diffusers model folder or URL. */
  model: string;
  /** Prompt file (SPO). */
  prompts?: string;
  /** Offline pairs file (Diffusion-DPO): safetensors with `winner`, `loser` [N, C, H, W] latents and metadata `captions` (JSON list). */
  pairs?: string;
  /** SPM checkpoint (file or folder) or a built-in scorer (`brightness`). */
  scorer?: string;
  /** Run folder. */
  out: string;
  /** Training settings given (the rest take the defaults). */
  settings: Partial<SpoTrainConfig>;
}

/** Thrown for bad command-line input; the CLI prints it with the usage. */
export class TrainUsageError extends Error {
  override name = "TrainUsageError";
}

const COMMAND_KEYS = ["model", "prompts", "pairs", "scorer", "out"] as const;

function kebab(key: string): string {
  return key.replace(/[A-Z0-9]+/g, (m) => `-${m.toLowerCase()}`).replace(/^-/, "");
}

/** Flag name → setting key, for every training setting. */
export const SETTING_FLAGS: ReadonlyMap<string, keyof SpoTrainConfig> = new Map(
  (Object.keys(SPO_TRAIN_DEFAULTS) as (keyof SpoTrainConfig)[]).map((key) => [kebab(key), key]),
);

/** `util.parseArgs` option specs of `spo train`. */
export function trainOptionSpecs(): Record<string, { type: "string" | "boolean" }> {
  const specs: Record<string, { type: "string" | "boolean" }> = {
    config: { type: "string" },
    resume: { type: "string" },
    help: { type: "boolean" },
  };
  for (const key of COMMAND_KEYS) specs[key] = { type: "string" };
  for (const flag of SETTING_FLAGS.keys())
    specs[flag] = { type: typeof SPO_TRAIN_DEFAULTS[SETTING_FLAGS.get(flag)!] === "boolean" ? "boolean" : "string" };
  return specs;
}

function parseSetting(key: keyof SpoTrainConfig, raw: string | boolean): unknown {
  const expected = SPO_TRAIN_DEFAULTS[key];
  if (typeof raw === "boolean") return raw;
  if (Array.isArray(expected)) {
    const parts = raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    return typeof expected[0] === "number" ? parts.map(Number) : parts;
  }
  if (typeof expected === "number" || expected === null) {
    if (raw === "null" || raw === "off") return null;
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value))
      throw new TrainUsageError(`--${kebab(key)} must be a number, got ${JSON.stringify(raw)}`);
    return value;
  }
  return raw;
}

/**
 * Builds the command from a parsed config file (any object, or undefined) and parsed flags.
 *
 * @example
 * ```ts
 * toTrainCommand({ model: "/m", prompts: "p.json", out: "runs/a", epochs: 1 }, { "pool-size": "2" }).settings;
 * // { epochs: 1, poolSize: 2 }
 * ```
 */
export function toTrainCommand(
  file: Record<string, unknown> | undefined,
  flags: Record<string, string | boolean | undefined>,
): TrainCommand {
  const settings: Record<string, unknown> = {};
  const command: Record<string, string> = {};
  for (const [key, value] of Object.entries(file ?? {})) {
    if ((COMMAND_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== "string") throw new TrainUsageError(`config "${key}" must be a string, got ${JSON.stringify(value)}`);
      command[key] = value;
    } else if (key in SPO_TRAIN_DEFAULTS) settings[key] = value;
    else
      throw new TrainUsageError(
        `config has an unknown key "${key}"; known: ${[...COMMAND_KEYS, ...Object.keys(SPO_TRAIN_DEFAULTS)].join(", ")}`,
      );
  }
  for (const [flag, value] of Object.entries(flags)) {
    if (value === undefined || flag === "config" || flag === "resume" || flag === "help") continue;
    if ((COMMAND_KEYS as readonly string[]).includes(flag)) command[flag] = String(value);
    else if (SETTING_FLAGS.has(flag)) settings[SETTING_FLAGS.get(flag)!] = parseSetting(SETTING_FLAGS.get(flag)!, value);
    else throw new TrainUsageError(`unknown option --${flag}`);
  }
  try {
    resolveTrainConfig(settings as Partial<SpoTrainConfig>);
  } catch (error) {
    if (error instanceof TrainConfigError) throw new TrainUsageError(error.message);
    throw error;
  }
  if (!command.model) throw new TrainUsageError('a model is required: --model <diffusers folder or URL> (or "model" in the config)');
  if (!command.out) throw new TrainUsageError('a run folder is required: --out <folder> (or "out" in the config)');
  const method = (settings.method as string | undefined) ?? SPO_TRAIN_DEFAULTS.method;
  if (method === "spo") {
    if (!command.prompts) throw new TrainUsageError("SPO needs prompts: --prompts <file> (JSON list of {caption} or text lines)");
    if (!command.scorer)
      throw new TrainUsageError('SPO needs a scorer: --scorer <step-aware preference model checkpoint> (or "brightness")');
  } else if (!command.pairs) {
    throw new TrainUsageError("Diffusion-DPO needs offline pairs: --pairs <file.safetensors> (winner, loser latents; metadata captions)");
  }
  return { ...(command as { model: string; out: string }), settings: settings as Partial<SpoTrainConfig> };
}

/** The usage text of `spo train`, listing every setting with its default. */
export function trainUsage(): string {
  const lines = [
    "Usage: spo train --config spo.json [flags]",
    "       spo train --model <folder|URL> --prompts <file> --scorer <spm> --out <run folder> [flags]",
    "       spo train --resume <run folder>",
    "",
    "Fine-tunes a LoRA with Step-aware Preference Optimization (or --method diffusion-dpo).",
    "The config file is a JSON object with the same names in camelCase (model, prompts, pairs, scorer, out, epochs, …).",
    "",
    "  --model <folder|URL>   diffusers Stable Diffusion 1.x folder",
    '  --prompts <file>       JSON list of {"caption": …} (SPO\'s 4k prompts) or strings, or one prompt per line',
    "  --pairs <file>         Diffusion-DPO: safetensors with winner/loser latents [N,4,64,64], metadata captions",
    '  --scorer <path>        step-aware preference model checkpoint (file or folder), or "brightness" (demo)',
    "  --out <folder>         run folder: checkpoints/, metrics.jsonl, metrics.svg, validation/, lora.safetensors",
    "  --resume <folder>      continue a run from its latest checkpoint",
    "",
    "Training settings (default):",
  ];
  for (const [flag, key] of SETTING_FLAGS) lines.push(`  --${flag.padEnd(26)} ${JSON.stringify(SPO_TRAIN_DEFAULTS[key])}`);
  lines.push(
    "",
    "Gradient clipping is off by default: the reference code's clip is a no-op (its parameter iterator is consumed before clipping).",
  );
  return `${lines.join("\n")}\n`;
}
