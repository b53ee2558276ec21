// The demo's command line: parsed and checked before any work, with a usage text for mistakes.
import { parseArgs } from "node:util";
import { TOY_SPO_DEFAULTS } from "@spo/toyworld";

export type DemoScorer = "spm" | "exact";

export interface DemoOptions {
  out: string;
  /** A toy model folder (diffusers layout); null = the shipped base model. */
  model: string | null;
  isOverwriteAllowed: boolean;
  scorer: DemoScorer;
  iterations: number;
  evalCount: number;
  steps: number;
  learningRate: number;
  seed: number;
}

/** A bad command line (exit code 2, with the usage). */
export class DemoUsageError extends Error {
  override name = "DemoUsageError";
}

// The exact reward is the default scorer while the shipped toy SPM ranks base samples at about
// chance (packages/toyworld/README.md): SPO cannot raise the reward with a scorer that does not track it.
export const DEMO_DEFAULTS = {
  out: "demo-output",
  scorer: "exact" as DemoScorer,
  iterations: 8,
  evalCount: 48,
  steps: TOY_SPO_DEFAULTS.steps!,
  // 10× the fine-tuning module's default: with 1e-3 the loss did not leave ln 2 in 56 updates (neither did it with 1e-2 in 32)
  learningRate: 1e-2,
  seed: 0,
};

export const DEMO_USAGE = `usage: npm run demo -- [options]

Fine-tunes the toy world's base model with SPO and measures it on held-out prompts before and after.

  --out <folder>       where everything is written (default ${DEMO_DEFAULTS.out}/); it must be empty or new
  --overwrite          write into a folder that is not empty (files of an earlier demo are replaced)
  --model <folder>     the toy model to fine-tune (default: the shipped base model)
  --scorer spm|exact   SPO's step scorer: the toy step-aware preference model, or the exact reward
                       of each candidate's x̂₀ (default ${DEMO_DEFAULTS.scorer}: the shipped toy SPM is still near chance
                       at ranking the base model's samples, see packages/toyworld/README.md)
  --iterations <n>     SPO iterations of 4 prompts each (default ${DEMO_DEFAULTS.iterations})
  --eval-count <n>     held-out prompts evaluated before and after, at least 2 (default ${DEMO_DEFAULTS.evalCount})
  --steps <n>          DDIM steps of SPO's sampler and of the evaluation, at least 3 (default ${DEMO_DEFAULTS.steps})
  --learning-rate <x>  AdamW's learning rate for the LoRA (default ${DEMO_DEFAULTS.learningRate})
  --seed <n>           seed of the training prompts, noise and LoRA (default ${DEMO_DEFAULTS.seed})
  --help               this text
`;

function positiveInteger(name: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < minimum)
    throw new DemoUsageError(`--${name} is ${JSON.stringify(text)}: expected an integer ≥ ${minimum}`);
  return value;
}

function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0)
    throw new DemoUsageError(`--${name} is ${JSON.stringify(text)}: expected a positive number`);
  return value;
}

/** The options of `args` (without the node and script paths), or null for --help. */
export function parseDemoOptions(args: readonly string[]): DemoOptions | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        out: { type: "string" },
        overwrite: { type: "boolean" },
        model: { type: "string" },
        scorer: { type: "string" },
        iterations: { type: "string" },
        "eval-count": { type: "string" },
        steps: { type: "string" },
        "learning-rate": { type: "string" },
        seed: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new DemoUsageError((error as Error).message);
  }
  if (values.help) return null;
  const scorer = (values.scorer as string | undefined) ?? DEMO_DEFAULTS.scorer;
  if (scorer !== "spm" && scorer !== "exact") throw new DemoUsageError(`--scorer is ${JSON.stringify(scorer)}: expected spm or exact`);
  const out = (values.out as string | undefined) ?? DEMO_DEFAULTS.out;
  if (out.trim() === "") throw new DemoUsageError("--out is empty: expected a folder");
  const model = (values.model as string | undefined) ?? null;
  if (model !== null && model.trim() === "") throw new DemoUsageError("--model is empty: expected a toy model folder");
  return {
    out,
    model,
    isOverwriteAllowed: values.overwrite === true,
    scorer,
    iterations: positiveInteger("iterations", (values.iterations as string | undefined) ?? String(DEMO_DEFAULTS.iterations), 1),
    evalCount: positiveInteger("eval-count", (values["eval-count"] as string | undefined) ?? String(DEMO_DEFAULTS.evalCount), 2),
    steps: positiveInteger("steps", (values.steps as string | undefined) ?? String(DEMO_DEFAULTS.steps), 3),
    learningRate: positiveNumber("learning-rate", (values["learning-rate"] as string | undefined) ?? String(DEMO_DEFAULTS.learningRate)),
    seed: positiveInteger("seed", (values.seed as string | undefined) ?? String(DEMO_DEFAULTS.seed), 0),
  };
}
