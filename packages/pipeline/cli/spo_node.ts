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
import { LoraLoadError } from "@spo/lora";
import { runLoraCommand } from "@spo/lora/node";
import { Device } from "@spo/wgpu-tensor";
import { ModelFolderError } from "../pipeline/load_pipeline.ts";
import { loadStableDiffusionPipeline } from "../pipeline/load_pipeline_node.ts";
import { toPng } from "../pipeline/png_node.ts";
import { loraFolderResolver } from "../pipeline/lora_folder_node.ts";
import { LoraNotFoundError } from "../pipeline/prompt_loras.ts";
import { GENERATE_OPTIONS, toGenerateCommand, UsageError, USAGE } from "./args.ts";
import { progressLine } from "./progress.ts";

function outputPath(out: string, index: number, count: number): string {
  if (count === 1) return out;
  const dot = out.lastIndexOf(".");
  return dot > 0 ? `${out.slice(0, dot)}-${index}${out.slice(dot)}` : `${out}-${index}`;
}

/** Runs `spo` with the given arguments; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "lora") return runLoraCommand(rest, (line) => process.stdout.write(`${line}\n`));
  if (command !== "generate") {
    process.stderr.write(`spo: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let args;
  try {
    const { values } = parseArgs({ args: [...rest], options: GENERATE_OPTIONS, allowPositionals: false, strict: true });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    args = toGenerateCommand(values);
  } catch (error) {
    process.stderr.write(`spo generate: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const device = await Device.create();
  Device.setDefault(device);
  const stderr = process.stderr;
  const tty = stderr.isTTY === true;
  try {
    const pipe = await loadStableDiffusionPipeline(args.model, { taesd: args.taesd, onProgress: (part) => stderr.write(`loading ${part}…\n`) });
    const start = performance.now();
    const result = await pipe.generate({
      prompt: args.prompt,
      negativePrompt: args.negative,
      steps: args.steps,
      cfgScale: args.cfg,
      seed: args.seed,
      scheduler: args.scheduler,
      width: args.width,
      height: args.height,
      batchSize: args.batch,
      clipSkip: args.clipSkip - 1,
      loras: args.loraDir === undefined ? undefined : loraFolderResolver(args.loraDir),
      onLoraTags: ({ prompt }) => {
        if (prompt.length === 0) return;
        const tags = prompt.map((t) => `${t.name} (te ${t.teMultiplier}, unet ${t.unetMultiplier})`).join(", ");
        stderr.write(args.loraDir === undefined ? `note: LoRA tags ${tags} ignored: give --lora-dir <folder> to apply them\n` : `applying LoRA ${tags}\n`);
      },
      onStep: ({ step, steps }) => {
        const line = progressLine("sampling", step, steps, 30, (performance.now() - start) / 1000);
        stderr.write(tty ? `\r${line}` : `${line}\n`);
      },
    });
    if (tty) stderr.write("\n");
    for (const [i, image] of result.images.entries()) {
      const path = outputPath(args.out, i, result.images.length);
      await writeFile(path, toPng(image));
      stderr.write(`wrote ${path} (${image.width}×${image.height}, seed ${result.seeds[i]})\n`);
    }
    pipe.dispose();
    return 0;
  } catch (error) {
    if (error instanceof ModelFolderError || error instanceof RangeError || error instanceof LoraNotFoundError || error instanceof LoraLoadError) {
      stderr.write(`spo generate: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    device.destroy();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
