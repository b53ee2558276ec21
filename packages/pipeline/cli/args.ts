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
  help: { type: "boolean", short: "h" },
} as const;

/** Usage text of the command line. */
export const USAGE = `Usage: spo generate --model <folder> --prompt <text> [options]
       spo lora convert|merge …   (spo lora --help)

  --model, -m      diffusers Stable Diffusion 1.x folder (tokenizer/, text_encoder/, unet/, vae/, scheduler/),
                   as a path or an http(s) URL of the folder (weights are read with range requests)
  --prompt, -p     prompt, AUTOMATIC1111 syntax: (word:1.2), (word), [word], BREAK, <lora:name:w>
  --negative, -n   negative prompt (default "")
  --steps          sampling steps (default 20)
  --cfg            classifier-free guidance scale (default 5)
  --seed           seed (default 42); image i of a batch uses seed + i
  --scheduler      ${SCHEDULER_NAMES.join(" | ")} (default ddim)
  --width/--height image size, multiples of 8 (default: the model's)
  --batch          images per run (default 1)
  --clip-skip      A1111 "Clip skip" (default 1 = last layer)
  --taesd          TAESD folder or file, path or URL (previews; optional)
  --lora-dir       folder of LoRA files: <lora:name:w> in the prompt applies <name>.safetensors found there
  --out, -o        output PNG (default image.png; a batch writes image-0.png, image-1.png, …)
`;

/** A command-line mistake; the message says which option and why. */
export class UsageError extends Error {
  override name = "UsageError";
}

function integer(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

/**
 * Validates parsed values into a {@link GenerateCommand}.
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
  if (!(SCHEDULER_NAMES as readonly string[]).includes(scheduler)) throw new UsageError(`--scheduler must be one of ${SCHEDULER_NAMES.join(", ")}, got "${scheduler}"`);
  const cfgRaw = str("cfg");
  const cfg = cfgRaw === undefined ? 5 : Number(cfgRaw);
  if (!Number.isFinite(cfg)) throw new UsageError(`--cfg must be a number, got "${cfgRaw}"`);
  const width = str("width") === undefined ? undefined : integer("width", str("width"), 0, 8);
  const height = str("height") === undefined ? undefined : integer("height", str("height"), 0, 8);
  return {
    model,
    prompt,
    negative: str("negative") ?? "",
    steps: integer("steps", str("steps"), 20, 1),
    cfg,
    seed: integer("seed", str("seed"), 42, 0),
    scheduler: scheduler as SchedulerName,
    width,
    height,
    batch: integer("batch", str("batch"), 1, 1),
    clipSkip: integer("clip-skip", str("clip-skip"), 1, 1),
    out: str("out") ?? "image.png",
    taesd: str("taesd"),
    loraDir: str("lora-dir"),
  };
}
