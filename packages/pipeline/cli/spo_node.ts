/**
 * The `spo` command line: `spo generate --model <folder> --prompt … [--out image.png]`, and
 * `spo lora convert|merge …` (from @spo/lora).
 * Run it with `npm run spo -- generate …` from the repository root.
 *
 * @module
 */

import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { describeLoraReport, type LoraLoadReport } from "@spo/lora";
import { runLoraCommand } from "@spo/lora/node";
import { Device } from "@spo/wgpu-tensor";
import { loadStableDiffusionPipeline } from "../pipeline/load_pipeline_node.ts";
import { toPng } from "../pipeline/png_node.ts";
import { loraFolderResolver } from "../pipeline/lora_folder_node.ts";
import type { StableDiffusionPipeline } from "../pipeline/stable_diffusion_pipeline.ts";
import { GENERATE_OPTIONS, type GenerateCommand, toGenerateCommand, USAGE } from "./args.ts";
import { describeFailure } from "./failures.ts";
import { outputPath, preflight } from "./preflight_node.ts";
import { progressLine } from "./progress.ts";

/** Where the command line prints (the process's streams by default; tests collect the text). */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (the progress bar redraws one line). */
  isTTY?: boolean;
}

const PROCESS_OUTPUT: CliOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  get isTTY() {
    return process.stderr.isTTY === true;
  },
};

/**
 * Runs `spo` with the given arguments and returns the exit code: 0 done, 1 failed, 2 bad
 * arguments. Every expected failure prints one line (`spo generate: <why>`); only a bug prints
 * a stack trace.
 *
 * @example
 * ```ts
 * process.exitCode = await main(["generate", "--model", "./sd15", "--prompt", "a cat"]);
 * ```
 */
export async function main(argv: readonly string[], output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    output.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "lora") return await runReporting("spo lora", output, () => runLoraCommand(rest, (line) => output.stdout(`${line}\n`)));
  if (command !== "generate") {
    output.stderr(`spo: unknown command "${command}" (spo --help lists the commands)\n`);
    return 2;
  }
  let args: GenerateCommand;
  try {
    const { values } = parseArgs({ args: joinNegativeValues(rest), options: GENERATE_OPTIONS, allowPositionals: false, strict: true });
    if (values.help) {
      output.stdout(USAGE);
      return 0;
    }
    args = toGenerateCommand(values);
  } catch (error) {
    const message = (error as Error).message.split("\n")[0]!;
    output.stderr(`spo generate: ${message} (spo generate --help for usage)\n`);
    return 2;
  }
  return await runReporting("spo generate", output, async () => {
    await preflight(args);
    return await generate(args, output);
  });
}

/**
 * `--seed -1` as `--seed=-1`, so that a negative number reaches the range check of its option
 * instead of parseArgs' "argument is ambiguous" (Node 20 has no `allowNegative`).
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!.startsWith("--") ? args[i]!.slice(2) : undefined;
    const next = args[i + 1];
    const takesValue = name !== undefined && (GENERATE_OPTIONS as Record<string, { type: string }>)[name]?.type === "string";
    if (takesValue && next !== undefined && /^-[0-9.]/.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i++;
      continue;
    }
    joined.push(args[i]!);
  }
  return joined;
}

/** Runs a command, turning an expected failure into one line and its exit code. */
async function runReporting(label: string, output: CliOutput, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    const failure = describeFailure(error);
    if (failure === null) {
      output.stderr(`${label}: unexpected error (a bug, please report it):\n${(error as Error)?.stack ?? String(error)}\n`);
      return 1;
    }
    output.stderr(`${label}: ${failure.message}\n`);
    return failure.exitCode;
  }
}

/** Loads the model on a device of its own, generates and writes the images. */
async function generate(args: GenerateCommand, output: CliOutput): Promise<number> {
  const device = await Device.create();
  Device.setDefault(device);
  let pipe: StableDiffusionPipeline | undefined;
  try {
    pipe = await loadStableDiffusionPipeline(args.model, {
      device,
      taesd: args.taesd,
      timeoutMs: args.timeoutSeconds * 1000,
      onProgress: (part) => output.stderr(`loading ${part}…\n`),
    });
    const start = performance.now();
    const result = await pipe.generate({
      prompt: args.prompt,
      negativePrompt: args.negative,
      numInferenceSteps: args.steps,
      guidanceScale: args.cfg,
      seed: args.seed,
      scheduler: args.scheduler,
      width: args.width,
      height: args.height,
      numImagesPerPrompt: args.batch,
      clipSkip: args.clipSkip - 1,
      loras: args.loraDir === undefined ? undefined : loraFolderResolver(args.loraDir),
      onLoraTags: ({ prompt }) => {
        if (prompt.length === 0) return;
        const tags = prompt.map((t) => `${t.name} (te ${t.teMultiplier}, unet ${t.unetMultiplier})`).join(", ");
        output.stderr(
          args.loraDir === undefined
            ? `note: LoRA tags ${tags} ignored: give --lora-dir <folder> to apply them\n`
            : `applying LoRA ${tags}\n`,
        );
      },
      onLoraReports: (reports) => {
        for (const [name, report] of reports) output.stderr(`LoRA ${name}: ${reportSummary(report)}\n`);
      },
      onStep: ({ step, steps }) => {
        const line = progressLine("sampling", step, steps, 30, (performance.now() - start) / 1000);
        output.stderr(output.isTTY ? `\r${line}` : `${line}\n`);
      },
    });
    if (output.isTTY) output.stderr("\n");
    for (const [i, image] of result.images.entries()) {
      const path = outputPath(args.out, i, result.images.length);
      await writeFile(path, toPng(image));
      output.stderr(`wrote ${path} (${image.width}×${image.height}, seed ${result.seeds[i]})\n`);
    }
    return 0;
  } finally {
    pipe?.dispose();
    device.destroy();
  }
}

/** The report's summary line, plus how many keys went unused and why. */
function reportSummary(report: LoraLoadReport): string {
  const summary = describeLoraReport(report).split("\n")[0]!;
  if (report.unmatched.length === 0) return summary;
  const reasons = new Map<string, number>();
  for (const { reason } of report.unmatched) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  return `${summary}; ${report.unmatched.length} keys unused (${[...reasons].map(([reason, n]) => `${n} ${reason}`).join(", ")})`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
