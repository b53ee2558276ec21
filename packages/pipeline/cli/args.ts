/**
 * `spo generate` argument parsing with `util.parseArgs`-shaped input: validation and defaults,
 * kept free of Node built-ins so it can be tested without a process.
 *
 * @module
 */

import { SCHEDULER_NAMES, type SchedulerName } from "../pipeline/scheduler_factory.ts";

/** The options of `spo generate`, validated. */
export interface GenerateCommand {
  model: string;
  prompt: string;
  negative: string;
  steps: number;
  cfg: number;
  seed: number;
  scheduler: SchedulerName;
  width?: number;
  height?: number;
  batch: number;
  clipSkip: number;
  out: string;
  taesd?: string;
  loraDir?: string;
  /** Seconds a model URL may go without answering. */
  timeoutSeconds: number;
}

/** `util.parseArgs` option specs of `spo generate`. */
export const GENERATE_OPTIONS = {
  model: { type: "string", short: "m" },
  prompt: { type: "string", short: "p" },
  negative: { type: "string", short: "n" },
  steps: { type: "string" },
  cfg: { type: "string" },
  seed: { type: "string" },
  scheduler: { type: "string" },
  width: { type: "string" },
  height: { type: "string" },
  batch: { type: "string" },
  "clip-skip": { type: "string" },
  out: { type: "string", short: "o" },
  taesd: { type: "string" },
  "lora-dir": { type: "string" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The ranges the numeric flags accept (checked before any model is loaded). */
export const LIMITS = {
  steps: [1, 1000],
  cfg: [0, 100],
  seed: [0, Number.MAX_SAFE_INTEGER - 1],
  size: [8, 8192],
  batch: [1, 64],
  clipSkip: [1, 12],
  timeoutSeconds: [0.001, 86_400],
} as const;

/** Usage text of the command line. */
export const USAGE = `Usage: spo generate --model <folder> --prompt <text> [options]
       spo lora convert|merge …   (spo lora --help)

  --model, -m      diffusers Stable Diffusion 1.x folder (tokenizer/, text_encoder/, unet/, vae/, scheduler/),
                   as a path or an http(s) URL of the folder (weights are read with range requests)
  --prompt, -p     prompt, AUTOMATIC1111 syntax: (word:1.2), (word), [word], BREAK, <lora:name:w>
  --negative, -n   negative prompt (default "")
  --steps          sampling steps, 1 to 1000 (default 20)
  --cfg            classifier-free guidance scale, 0 to 100 (default 5; 1 or less turns guidance off)
  --seed           seed (default 42); image i of a batch uses seed + i
  --scheduler      ${SCHEDULER_NAMES.join(" | ")} (default ddim)
  --width/--height image size, multiples of 8 up to 8192 (default: the model's)
  --batch          images per run, 1 to 64 (default 1)
  --clip-skip      A1111 "Clip skip", 1 to 12 and at most the text encoder's layers (default 1 = last layer)
  --taesd          TAESD folder or file, path or URL (previews; optional)
  --lora-dir       folder of LoRA files: <lora:name:w> in the prompt applies <name>.safetensors found there
  --timeout        seconds a model URL may go without answering (default 30)
  --out, -o        output PNG (default image.png; a batch writes image-0.png, image-1.png, …)

Everything that can be checked without the model (flags, prompt syntax, LoRA files, --out) is
checked before it is loaded. Exit codes: 0 done, 1 failed (one line says why), 2 bad arguments.
`;

/** A command-line mistake; the message says which option and why. */
export class UsageError extends Error {
  override name = "UsageError";
}

const DIGITS = /^[0-9]+$/;
// a plain decimal number: no hex, no "Infinity", no "nan", no empty string
const DECIMAL = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

function integer(name: string, raw: string | undefined, fallback: number, [min, max]: readonly [number, number]): number {
  if (raw === undefined) return fallback;
  const value = DIGITS.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function decimal(name: string, raw: string | undefined, fallback: number, [min, max]: readonly [number, number]): number {
  if (raw === undefined) return fallback;
  const value = DECIMAL.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function size(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const [min, max] = LIMITS.size;
  const value = DIGITS.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max && value % 8 === 0))
    throw new UsageError(`--${name} must be a multiple of 8 from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Validates parsed values into a {@link GenerateCommand}: every number is checked here, as it
 * enters, so a bad one is reported before any model is loaded.
 *
 * @example
 * ```ts
 * toGenerateCommand({ model: "/m", prompt: "a cat", steps: "10" }).steps; // 10
 * ```
 */
export function toGenerateCommand(values: Record<string, string | boolean | undefined>): GenerateCommand {
  const str = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  const model = str("model");
  const prompt = str("prompt");
  if (!model) throw new UsageError("--model <folder> is required");
  if (prompt === undefined) throw new UsageError("--prompt <text> is required");
  const scheduler = str("scheduler") ?? "ddim";
  if (!(SCHEDULER_NAMES as readonly string[]).includes(scheduler))
    throw new UsageError(`--scheduler must be one of ${SCHEDULER_NAMES.join(", ")}, got "${scheduler}"`);
  const batch = integer("batch", str("batch"), 1, LIMITS.batch);
  const seed = integer("seed", str("seed"), 42, LIMITS.seed);
  if (seed + batch - 1 > Number.MAX_SAFE_INTEGER)
    throw new UsageError(`--seed ${seed} with --batch ${batch} runs past the largest seed, ${Number.MAX_SAFE_INTEGER}`);
  return {
    model,
    prompt,
    negative: str("negative") ?? "",
    steps: integer("steps", str("steps"), 20, LIMITS.steps),
    cfg: decimal("cfg", str("cfg"), 5, LIMITS.cfg),
    seed,
    scheduler: scheduler as SchedulerName,
    width: size("width", str("width")),
    height: size("height", str("height")),
    batch,
    clipSkip: integer("clip-skip", str("clip-skip"), 1, LIMITS.clipSkip),
    out: str("out") ?? "image.png",
    taesd: str("taesd"),
    loraDir: str("lora-dir"),
    timeoutSeconds: decimal("timeout", str("timeout"), 30, LIMITS.timeoutSeconds),
  };
}
