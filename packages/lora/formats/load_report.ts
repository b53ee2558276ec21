import type { LoraComponent } from "./components.ts";
import type { LoraFormat } from "./lora_keys.ts";

/** Why a key of a LoRA file was not used. */
export type UnmatchedReason =
  /** The key names a module the model does not have. */
  | "unknown module"
  /** The key belongs to a component (e.g. the text encoder) for which no model was given. */
  | "unknown component"
  /** down/up do not fit the layer's weight (in/out features, kernel size). */
  | "shape mismatch"
  /** A down without its up (or the reverse), ranks that differ, or an alpha without weights. */
  | "rank pairing"
  /** A LoRA variant this package does not implement (LoHa, LoKr, DoRA, grouped convolutions). */
  | "unsupported"
  /** Not a LoRA tensor. */
  | "not a LoRA key"
  /** Another key already gave this tensor of this module. */
  | "duplicate"
  /** The key names a part of another model family (SDXL's te1/te2 text encoders on a one-encoder model). */
  | "another architecture";

/** One key that was not used, with the reason and the specifics. */
export interface UnmatchedKey {
  key: string;
  reason: UnmatchedReason;
  detail: string;
}

/** What a LoRA load (or a layout check) found, key by key. */
export interface LoraLoadReport {
  /** Naming families of the keys (usually one). */
  formats: LoraFormat[];
  /** Keys in the file. */
  tensorCount: number;
  /** Keys used: the down, up and alpha tensors of matched modules. */
  matchedTensors: number;
  /** Layers that got an adapter. */
  matchedModules: number;
  /** Matched layers per component. */
  modulesByComponent: Partial<Record<LoraComponent, number>>;
  /** Scalars in the matched down and up tensors. */
  parameterCount: number;
  /** Every key not used, with its reason. */
  unmatched: UnmatchedKey[];
}

/**
 * Thrown by a strict load with unmatched keys, and by any load that matched nothing; `report`
 * holds every key's outcome.
 *
 * @example
 * ```ts
 * try {
 *   loadLora(unet, tensors, { strict: true });
 * } catch (error) {
 *   if (error instanceof LoraLoadError) console.log(describeLoraReport(error.report));
 * }
 * ```
 */
export class LoraLoadError extends Error {
  override name = "LoraLoadError";
  constructor(
    readonly report: LoraLoadReport,
    action = "Cannot load LoRA",
  ) {
    super(`${action}: ${summarizeUnmatched(report)}`);
  }
}

/**
 * One line per fact, for logs and the command line.
 *
 * @example
 * ```ts
 * console.log(describeLoraReport(report));
 * // format diffusers: 256 of 256 tensors matched 128 modules (unet 128), 797184 parameters
 * ```
 */
export function describeLoraReport(report: LoraLoadReport): string {
  const perComponent = Object.entries(report.modulesByComponent)
    .map(([c, n]) => `${c} ${n}`)
    .join(", ");
  const lines = [
    `format ${report.formats.join("+") || "unknown"}: ${report.matchedTensors} of ${report.tensorCount} tensors matched ` +
      `${plural(report.matchedModules, "module")}${perComponent ? ` (${perComponent})` : ""}, ${report.parameterCount} parameters`,
  ];
  for (const { key, reason, detail } of report.unmatched) lines.push(`unmatched ${key}: ${reason}: ${detail}`);
  return lines.join("\n");
}

function summarizeUnmatched(report: LoraLoadReport): string {
  const counts = new Map<UnmatchedReason, number>();
  for (const { reason } of report.unmatched) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const byReason = [...counts].map(([reason, n]) => `${n} ${reason}`).join(", ");
  const first = report.unmatched
    .slice(0, 3)
    .map(({ key, detail }) => `"${key}" (${detail})`)
    .join("; ");
  const matched = `${report.matchedTensors} of ${report.tensorCount} tensors matched ${plural(report.matchedModules, "module")}`;
  if (report.unmatched.length === 0) return `${matched}, nothing to apply`;
  return `${matched}; ${report.unmatched.length} unmatched (${byReason}): ${first}${report.unmatched.length > 3 ? "; …" : ""}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
