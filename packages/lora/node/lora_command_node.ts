import { parseArgs } from "node:util";
import { describeLoraReport, LoraLoadError } from "../formats/load_report.ts";
import { LORA_FORMATS, type LoraFormat } from "../formats/lora_keys.ts";
import { convertLora } from "./convert_lora_node.ts";
import { type LoraToMerge, mergeLoraIntoCheckpoint } from "./merge_checkpoint_node.ts";

/** Usage of `spo lora`. */
export const LORA_USAGE = `Usage: spo lora convert <in.safetensors> <out.safetensors> --to ${LORA_FORMATS.join("|")} [--lenient]
       spo lora merge <checkpoint.safetensors> <out.safetensors> --lora <file>[:weight] [--lora …] [--strict]

  convert   rewrites a LoRA in another format (kohya names resolve against SD1.5's modules);
            fails on any key it cannot convert unless --lenient
  merge     adds weight·ΔW of each LoRA into a diffusers UNet / text encoder file or an
            original single-file SD1.x checkpoint, written in each weight's dtype
`;

/**
 * Runs `spo lora <convert|merge> …` (arguments after `lora`) and returns the exit code: 0 done,
 * 1 a LoRA did not match (the report says why), 2 bad arguments. Prints the match reports.
 *
 * @example
 * ```ts
 * process.exitCode = await runLoraCommand(["convert", "spo.safetensors", "spo_kohya.safetensors", "--to", "kohya"]);
 * // format diffusers: 256 of 256 tensors matched 128 modules (unet 128), 797184 parameters
 * ```
 */
export async function runLoraCommand(args: readonly string[], log: (line: string) => void = console.log): Promise<number> {
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by its assignment in the try block (control-flow inference)
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        to: { type: "string" },
        lora: { type: "string", multiple: true },
        strict: { type: "boolean" },
        lenient: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    log(`${(error as Error).message}\n${LORA_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, input, output, ...extra] = positionals;
  if (values.help) {
    log(LORA_USAGE);
    return 0;
  }
  if (!input || !output || extra.length > 0 || (command !== "convert" && command !== "merge")) {
    log(LORA_USAGE);
    return 2;
  }
  try {
    if (command === "convert") {
      if (!LORA_FORMATS.includes(values.to as LoraFormat)) {
        log(`--to must be one of ${LORA_FORMATS.join(", ")}, got ${JSON.stringify(values.to ?? "")}\n${LORA_USAGE}`);
        return 2;
      }
      log(describeLoraReport(await convertLora(input, output, { to: values.to as LoraFormat, strict: !values.lenient })));
      return 0;
    }
    const loras = (values.lora ?? []).map(parseLoraArgument);
    if (loras.length === 0) {
      log(`merge needs at least one --lora <file>[:weight]\n${LORA_USAGE}`);
      return 2;
    }
    const reports = await mergeLoraIntoCheckpoint(input, loras, output, { strict: values.strict });
    reports.forEach((report, i) => log(`${loras[i].file}: ${describeLoraReport(report)}`));
    return 0;
  } catch (error) {
    if (!(error instanceof LoraLoadError)) throw error;
    log(error.message);
    for (const line of describeLoraReport(error.report).split("\n")) log(line);
    return 1;
  }
}

/** `file.safetensors:0.7` → file and weight; a suffix that is not a number belongs to the path. */
function parseLoraArgument(argument: string): LoraToMerge {
  const colon = argument.lastIndexOf(":");
  const weight = colon > 0 ? Number(argument.slice(colon + 1)) : NaN;
  if (colon > 0 && argument.slice(colon + 1).trim() !== "" && Number.isFinite(weight)) return { file: argument.slice(0, colon), weight };
  return { file: argument };
}
