#!/usr/bin/env node
/**
 * The `spo` command line: `spo train …` (this package), `spo convert …` (@spo/torch-checkpoint),
 * and every other command (`generate`, `lora`, `--help`) handed to @spo/pipeline's CLI.
 * From the repository root: `npm run spo -- train --config spo.json`.
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import { runPipelineCommand } from "@spo/pipeline/node";
import { runConvertCommand } from "@spo/torch-checkpoint/node";
import { runTrainCommand } from "./train_command_node.ts";

/** Runs `spo` with the given arguments; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "train") return runTrainCommand(rest);
  if (command === "convert") return runConvertCommand([...rest], (line) => process.stdout.write(`${line}\n`));
  if (command === undefined || command === "--help" || command === "-h") {
    process.stdout.write("Commands: spo train | spo generate | spo lora convert|merge | spo convert  (each takes --help)\n\n");
  }
  return runPipelineCommand(argv);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
